//! `ws2sim`: the command-line companion of the simulator.
//!
//! ```text
//! ws2sim rules                   # every SPEC rule id with its summary
//! ws2sim explain CL-5            # one rule: text, sources, where it is implemented and tested
//! ws2sim catalog [--json]        # the protocol catalog as WSAEnumProtocolsW lists it
//! ws2sim trace text FILE         # a JSON-lines trace (Trace::to_json_lines), one line per event
//! ws2sim trace mermaid FILE      # ... as a Mermaid sequence diagram
//! ws2sim trace json FILE         # ... read and written again (checks it)
//! ws2sim trace diff A B          # the first divergence of two traces; exit code 1 if they differ
//! ws2sim run P.json [--seed N]   # a saved program (ws2sim::testing::program): every step's outcome
//! ws2sim sweep P.json --seeds 0..10000   # ... under each seed until one fails; the replay command
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use programs::ProfileArg;
use ws2sim::{api, Rule, Sim, Trace, Version};

mod programs;

/// Where the library implements and tests each rule, found by build.rs.
mod sites {
    include!(concat!(env!("OUT_DIR"), "/sites.rs"));
}

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
    /// Print one rule: its full text, its sources, and where the library implements and tests
    /// it (e.g. `ws2sim explain CL-5`).
    Explain {
        /// The rule id, as SPEC.md writes it (case does not matter).
        rule: String,
    },
    /// Print the simulated protocol catalog, as WSAEnumProtocolsW lists it.
    Catalog {
        /// One JSON object per entry, in a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Read a JSON-lines trace (`Trace::to_json_lines`; `-` reads standard input).
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Run a saved program (`ws2sim::testing::program::Program::to_json`; `-` reads standard
    /// input) under one seed: every step with its outcome, then how the run ended. Exit code
    /// 1 when it ended in a deadlock or a panic, or broke an invariant.
    Run {
        program: String,
        /// The simulation's seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The behaviour profile.
        #[arg(long, value_enum, default_value_t = ProfileArg::Documented)]
        profile: ProfileArg,
        /// Write the run's trace here, as JSON lines (for `ws2sim trace`).
        #[arg(long)]
        trace: Option<String>,
    },
    /// Run a saved program under each seed until one fails (a deadlock, a panic, a broken
    /// invariant), with a progress bar; print the failing seed and the command that replays
    /// it. Exit code 1 when a seed failed.
    Sweep {
        program: String,
        /// N (seeds 0..N), A..B or A..=B.
        #[arg(long, default_value = "100")]
        seeds: String,
        /// The behaviour profile.
        #[arg(long, value_enum, default_value_t = ProfileArg::Documented)]
        profile: ProfileArg,
        /// A seed also fails when its outcomes differ from the first seed's: the program's
        /// results must not depend on the schedule.
        #[arg(long)]
        same_outcomes: bool,
    },
}

#[derive(Subcommand)]
enum TraceCommand {
    /// One readable line per event, after the header.
    Text { file: String },
    /// A Mermaid sequence diagram.
    Mermaid { file: String },
    /// The trace written again as JSON lines (the same bytes for a trace ws2sim wrote).
    Json { file: String },
    /// The first event where two traces differ, with the events around it. Exit code 0 when
    /// they are the same, 1 when they differ (the seed alone does not count: diffing two
    /// seeds' traces is what this is for).
    Diff {
        a: String,
        b: String,
        /// Events shown before and after the divergence.
        #[arg(long, default_value_t = 3)]
        context: usize,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Rules => {
            for r in Rule::ALL {
                println!("{:<6} {}", r.id(), r.summary());
            }
            ExitCode::SUCCESS
        }
        Command::Explain { rule } => match Rule::from_id(&rule) {
            Some(r) => {
                print!("{}", explain(r));
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("ws2sim: no rule {rule:?} in SPEC.md (try `ws2sim rules`)");
                ExitCode::from(2)
            }
        },
        Command::Catalog { json } => {
            print!("{}", catalog(json));
            ExitCode::SUCCESS
        }
        Command::Trace(t) => report(trace(t)),
        Command::Run {
            program,
            seed,
            profile,
            trace,
        } => report(programs::run(&program, seed, profile, trace.as_deref())),
        Command::Sweep {
            program,
            seeds,
            profile,
            same_outcomes,
        } => report(programs::sweep(&program, &seeds, profile, same_outcomes)),
    }
}

/// The exit code of a command, or 2 with its error.
fn report(r: Result<ExitCode, String>) -> ExitCode {
    r.unwrap_or_else(|e| {
        eprintln!("ws2sim: {e}");
        ExitCode::from(2)
    })
}

/// `explain`: the rule's id, summary, full text, sources, implementation sites and tests.
fn explain(r: Rule) -> String {
    let mut out = format!("{}: {}\n\n{}\n\n", r.id(), r.summary(), r.text());
    let sources: Vec<&str> = r.sources().iter().map(|s| s.tag()).collect();
    out.push_str(&format!(
        "Sources: {}\n",
        if sources.is_empty() {
            "none named in SPEC.md".to_owned()
        } else {
            sources.join(", ")
        }
    ));
    if !sites::SCANNED {
        out.push_str(
            "\n(Where it is implemented and tested: not known to this build, made without the \
             library's sources.)\n",
        );
        return out;
    }
    let (family, n) = r.id().split_once('-').expect("rule ids are XX-N");
    let variant = format!("{}{}{n}", &family[..1], family[1..].to_ascii_lowercase());
    let prefix = format!("{}_{n}", family.to_ascii_lowercase());
    let list = |title: &str, rows: Vec<&(&str, &str, u32, &str)>, out: &mut String| {
        out.push_str(&format!("\n{title}:\n"));
        if rows.is_empty() {
            out.push_str("  (none found)\n");
        }
        for (_, file, line, f) in rows {
            out.push_str(&format!("  {file}:{line}  {f}\n"));
        }
    };
    let implemented = sites::IMPLEMENTED
        .iter()
        .filter(|s| s.0 == variant)
        .collect();
    list(
        "Implemented in (functions naming it)",
        implemented,
        &mut out,
    );
    let documented = sites::DOCUMENTED
        .iter()
        .filter(|s| s.0 == variant)
        .collect();
    list(
        "Documented at (functions whose doc names it)",
        documented,
        &mut out,
    );
    let tested = sites::TESTED.iter().filter(|s| s.0 == prefix).collect();
    list("Tested by", tested, &mut out);
    out
}

/// The catalog of a fresh simulation, as text or a JSON array.
fn catalog(json: bool) -> String {
    let sim = Sim::new();
    let entries = sim.localhost().process("ws2sim").run(|| {
        api::startup(Version::V2_2).expect("startup succeeds in a fresh simulation");
        let entries = api::enum_protocols(None).expect("the catalog is listable");
        api::cleanup().expect("cleanup after one startup succeeds");
        entries
    });
    let mut out = String::new();
    if json {
        out.push_str("[\n");
    }
    for (i, e) in entries.iter().enumerate() {
        if json {
            let chain: Vec<String> = e.chain.entries[..usize::try_from(e.chain.len).unwrap_or(0)]
                .iter()
                .map(u32::to_string)
                .collect();
            out.push_str(&format!(
                "  {{\"catalog_entry_id\":{},\"name\":{},\"address_family\":{},\"socket_type\":{},\
                 \"protocol\":{},\"protocol_max_offset\":{},\"version\":{},\"service_flags1\":{},\
                 \"provider_flags\":{},\"provider_id\":{},\"chain_len\":{},\"chain\":[{}],\
                 \"max_sockaddr\":{},\"min_sockaddr\":{},\"message_size\":{}}}{}\n",
                e.catalog_entry_id,
                json_string(&e.name),
                e.address_family,
                e.socket_type,
                e.protocol,
                e.protocol_max_offset,
                e.version,
                e.service_flags1,
                e.provider_flags,
                json_string(&e.provider_id.to_string()),
                e.chain.len,
                chain.join(","),
                e.max_sockaddr,
                e.min_sockaddr,
                e.message_size,
                if i + 1 < entries.len() { "," } else { "" }
            ));
        } else {
            out.push_str(&format!(
                "{:>5}  {:<40} af={} type={} protocol={:<3} XP1={:#010x} PFL={:#x} provider={}\n",
                e.catalog_entry_id,
                e.name,
                e.address_family,
                e.socket_type,
                e.protocol,
                e.service_flags1,
                e.provider_flags,
                e.provider_id
            ));
        }
    }
    if json {
        out.push_str("]\n");
    }
    out
}

/// A JSON string literal (the catalog's names are plain text; control characters escaped).
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of file `path` (`-`: standard input).
fn read_text(path: &str) -> Result<String, String> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    }
}

fn read(path: &str) -> Result<Trace, String> {
    Trace::from_json_lines(&read_text(path)?).map_err(|e| format!("{path}: {e}"))
}

fn trace(t: TraceCommand) -> Result<ExitCode, String> {
    match t {
        TraceCommand::Text { file } => {
            let t = read(&file)?;
            println!("# {}", t.header());
            print!("{t}");
        }
        TraceCommand::Mermaid { file } => print!("{}", read(&file)?.to_mermaid()),
        TraceCommand::Json { file } => print!("{}", read(&file)?.to_json_lines()),
        TraceCommand::Diff { a, b, context } => {
            let (ta, tb) = (read(&a)?, read(&b)?);
            return Ok(match diff(&ta, &tb, context) {
                None => {
                    println!(
                        "same: {} events{}",
                        ta.events().len(),
                        if ta.header().seed == tb.header().seed {
                            String::new()
                        } else {
                            format!(" (seeds {} and {})", ta.header().seed, tb.header().seed)
                        }
                    );
                    ExitCode::SUCCESS
                }
                Some(report) => {
                    print!("{report}");
                    ExitCode::from(1)
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `a` and `b` first differ, with `context` events around it; `None` when they are the
/// same but for their seeds.
fn diff(a: &Trace, b: &Trace, context: usize) -> Option<String> {
    let mut out = String::new();
    let (ha, hb) = (a.header(), b.header());
    let header_differs =
        ha.profile != hb.profile || ha.scheduler != hb.scheduler || ha.hosts != hb.hosts;
    if header_differs || ha.seed != hb.seed {
        out.push_str(&format!("--- A: {ha}\n+++ B: {hb}\n"));
    }
    let (ea, eb) = (a.events(), b.events());
    let Some(i) = (0..ea.len().max(eb.len())).find(|&i| ea.get(i) != eb.get(i)) else {
        if header_differs {
            out.push_str(&format!(
                "the headers differ; the {} events are the same\n",
                ea.len()
            ));
            return Some(out);
        }
        return None;
    };
    out.push_str(&format!(
        "first divergence at event {i} (A has {} events, B {}):\n",
        ea.len(),
        eb.len()
    ));
    for e in &ea[i.saturating_sub(context)..i] {
        out.push_str(&format!("  {e}\n"));
    }
    let side = |events: &[ws2sim::Event], mark: char, out: &mut String| {
        let after = &events[i.min(events.len())..(i + 1 + context).min(events.len())];
        if after.is_empty() {
            out.push_str(&format!("{mark} (end of trace)\n"));
        }
        for e in after {
            out.push_str(&format!("{mark} {e}\n"));
        }
    };
    side(ea, '-', &mut out);
    side(eb, '+', &mut out);
    Some(out)
}
