//! The sync benchmark: the real `usersync` binary against the Graph emulator on 127.0.0.1, phase
//! by phase, with figures set against the request floor — the fewest Graph requests the phase
//! needs, each paying the emulator's latency. It measures and prints; it asserts no time.
//!
//! `cargo bench --bench sync -- --users 100000 --groups 1000 --memberships 200000 --latency-ms 20`
//! (docs/PERFORMANCE.md explains every figure).

#![allow(dead_code)] // the emulator modules are shared with the integration tests

#[path = "../../tests/it/support/graph.rs"]
mod graph;
#[path = "../../tests/it/support/http_server.rs"]
mod http_server;
mod measure;
mod phases;
mod tenant;

use phases::{Options, PhaseResult};
use tenant::Shape;

const USAGE: &str = "usage: cargo bench --bench sync -- [--users N] [--groups N] [--memberships N] [--latency-ms N]
                     [--concurrency N] [--retry-after-s N] [--json] [--stop-after PHASE] [--sweep]
  --users         source users, 1000 to 1000000 (default 10000)
  --groups        groups (default users/100)
  --memberships   group memberships (default 2 x users)
  --latency-ms    the emulator's answer latency (default 20)
  --concurrency   the connector's http.concurrency (default: the connector's default, 4)
  --retry-after-s Retry-After of the throttled phase's 429 answers (default 1)
  --json          one JSON object per phase and line instead of the table
  --stop-after P  stop after phase P (full, noop, delta-first, delta-none, delta-churn, throttled)
  --sweep         run 1k, 10k and 100k users and show how each figure grows";

const PHASES: [&str; 6] = ["full", "noop", "delta-first", "delta-none", "delta-churn", "throttled"];

fn main() {
    let mut users = 10_000usize;
    let (mut groups, mut memberships) = (None, None);
    let mut options = Options { latency_ms: 20, concurrency: None, retry_after_s: 1, json: false, stop_after: None };
    let mut sweep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            let value = args.next().unwrap_or_else(|| fail(&format!("{name} needs a value")));
            value.parse().unwrap_or_else(|_| fail(&format!("{name}: '{value}' is not a whole number")))
        };
        match arg.as_str() {
            "--users" => users = number("--users"),
            "--groups" => groups = Some(number("--groups")),
            "--memberships" => memberships = Some(number("--memberships")),
            "--latency-ms" => options.latency_ms = number("--latency-ms") as u64,
            "--concurrency" => options.concurrency = Some(number("--concurrency")),
            "--retry-after-s" => options.retry_after_s = number("--retry-after-s") as u64,
            "--json" => options.json = true,
            "--stop-after" => {
                let phase = args.next().unwrap_or_else(|| fail("--stop-after needs a phase"));
                if !PHASES.contains(&phase.as_str()) {
                    fail(&format!("--stop-after: unknown phase '{phase}' (phases: {})", PHASES.join(", ")));
                }
                options.stop_after = Some(phase);
            }
            "--sweep" => sweep = true,
            // `cargo bench` passes --bench to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument '{other}'")),
        }
    }
    if !(1_000..=1_000_000).contains(&users) {
        fail("--users must be between 1000 and 1000000");
    }
    if let Some(c) = options.concurrency {
        if !(1..=16).contains(&c) {
            fail("--concurrency must be between 1 and 16");
        }
    }
    if sweep {
        let mut all: Vec<(usize, Vec<PhaseResult>)> = Vec::new();
        for n in [1_000, 10_000, 100_000] {
            let shape = Shape::scaled(n);
            all.push((n, phases::run(&shape, &options)));
        }
        if !options.json {
            print_growth(&all);
        }
    } else {
        let mut shape = Shape::scaled(users);
        shape.groups = groups.unwrap_or(shape.groups).max(1);
        shape.memberships = memberships.unwrap_or(shape.memberships);
        phases::run(&shape, &options);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    std::process::exit(2);
}

type Figure = fn(&PhaseResult) -> f64;

/// How each figure grows from size to size: linear growth multiplies it by the size ratio.
fn print_growth(all: &[(usize, Vec<PhaseResult>)]) {
    println!("\nGrowth (each figure at 1k / 10k / 100k users; x = growth from 10k to 100k, linear = x10)");
    println!("{:<12} {:<16} {:>12} {:>12} {:>12} {:>8}", "phase", "figure", "1k", "10k", "100k", "x");
    let Some((_, first)) = all.first() else { return };
    for (p, phase) in first.iter().enumerate() {
        let figures: [(&str, Figure); 5] = [
            ("requests", |r| r.requests_total as f64),
            ("wall_s", |r| r.wall_s),
            ("engine_cpu_s", |r| r.engine_cpu_s),
            ("process_cpu_s", |r| r.process_cpu_s),
            ("peak_rss_mb", |r| r.peak_rss_mb),
        ];
        for (name, figure) in figures {
            let values: Vec<f64> = all.iter().filter_map(|(_, rs)| rs.get(p).map(figure)).collect();
            let growth = match values.as_slice() {
                [_, ten, hundred] if *ten > 0.0 => format!("{:.1}", hundred / ten),
                _ => "-".into(),
            };
            let cell = |i: usize| values.get(i).map(|v| format!("{v:.3}")).unwrap_or_default();
            println!("{:<12} {:<16} {:>12} {:>12} {:>12} {:>8}", phase.phase, name, cell(0), cell(1), cell(2), growth);
        }
    }
}
