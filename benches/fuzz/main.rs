//! A mutation fuzzer for every parser that reads outside input, on stable Rust, bounded in time:
//!
//! ```text
//! cargo bench --bench fuzz -- [--seconds N] [--target NAME] [--seed N]
//! ```
//!
//! Each target (`usersync::connector::fuzzing`) runs in a child process of its own, under an
//! address-space limit, so that what must never happen inside a JVM — a panic, an abort on a
//! failed allocation, memory growing with one hostile record — ends that child and is reported
//! with the input that did it (`target/fuzz/<target>-crash.bin`). Inputs start from the corpus in
//! `fuzz/corpus/<target>/` and are mutated at random (bit flips, bytes, cuts, repeats, splices,
//! the format's own tokens). It is not coverage-guided (that needs a nightly toolchain); the
//! corpus holds inputs that reach each parser's paths, and the seed is printed so a run can be
//! repeated. Prints one line per target and `fuzz: N passed, N failed`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use usersync::connector::fuzzing;

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry, &[&str]); 8] = [
    (
        "config",
        fuzzing::config,
        &[
            "{",
            "}",
            "[",
            "]",
            "\"",
            ":",
            ",",
            "null",
            "\"connectors\"",
            "\"safety\"",
            "\\u0000",
            "{\"env\":\"X\"}",
            "{\"file\":\"/\"}",
            "1e999",
            "-1",
            "\"0 0 0 30 2 ?\"",
        ],
    ),
    (
        "mapping",
        fuzzing::mapping,
        &["{", "}", "(", ")", "*", "+", "?", "\\", "$1", "{a.b}", "{0}", ".*", "[^", "|", "\u{0}", "\u{feff}"],
    ),
    (
        "csv",
        fuzzing::csv,
        &[",", ";", "\"", "\"\"", "\n", "\r\n", "\u{feff}", "\u{0}", "\u{ff}", "active", "Staff;Dev"],
    ),
    (
        "xlsx",
        fuzzing::xlsx,
        &[
            "PK\u{3}\u{4}",
            "<row r=\"1048576\">",
            "<c r=\"XFD1\" t=\"s\"><v>9</v></c>",
            "uniqueCount=\"99999999\"",
            "<dimension ref=\"A1:XFD1048576\"/>",
            "t=\"inlineStr\"",
            "</sheetData>",
        ],
    ),
    (
        "entra",
        fuzzing::entra,
        &[
            "{",
            "}",
            "[",
            "]",
            "\"id\"",
            "\"value\"",
            "\"@removed\"",
            "\"manager\"",
            "\"accountEnabled\"",
            "null",
            "true",
            "\"#EXT#\"",
            "\\u0000",
        ],
    ),
    (
        "entra_batch",
        fuzzing::entra_batch,
        &[
            "{",
            "}",
            "[",
            "]",
            "\"responses\"",
            "\"id\"",
            "\"status\"",
            "\"headers\"",
            "\"Retry-After\"",
            "\"NaN\"",
            "\"-1\"",
            "429",
            "\"body\"",
            "\"@odata.mediaEtag\"",
            "null",
            "\\u0000",
        ],
    ),
    (
        "okta",
        fuzzing::okta,
        &[
            "{",
            "}",
            "[",
            "]",
            "\"id\"",
            "\"status\"",
            "\"profile\"",
            "\"login\"",
            "\"managerId\"",
            "\"DEPROVISIONED\"",
            "null",
            "\\u0000",
        ],
    ),
    (
        "google",
        fuzzing::google,
        &[
            "{",
            "}",
            "[",
            "]",
            "\"id\"",
            "\"users\"",
            "\"primaryEmail\"",
            "\"relations\"",
            "\"manager\"",
            "\"suspended\"",
            "true",
            "\\u0000",
        ],
    ),
];

/// Inputs are kept below this size; the corpus may hold bigger ones.
const MAX_INPUT: usize = 256 * 1024;

/// The address space a child may use: an input that makes a parser allocate without bound
/// fails here instead of exhausting the machine.
const ADDRESS_SPACE: u64 = 4 << 30;

struct Args {
    seconds: f64,
    target: Option<String>,
    seed: u64,
    child: bool,
}

fn args() -> Args {
    let mut a = Args { seconds: 10.0, target: None, seed: 0, child: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).expect("--seconds N"),
            "--target" => a.target = it.next(),
            "--seed" => a.seed = it.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--child" => a.child = true,
            "--bench" => {} // cargo bench passes it
            other => panic!("unknown argument '{other}' (expected --seconds N, --target NAME, --seed N)"),
        }
    }
    if a.seed == 0 {
        a.seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
    }
    a
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    target.join("fuzz")
}

fn main() {
    let a = args();
    if a.child {
        let name = a.target.as_deref().expect("--child needs --target");
        std::process::exit(child(name, a.seconds, a.seed));
    }
    let names: Vec<&str> = match &a.target {
        Some(t) => vec![TARGETS.iter().find(|(n, _, _)| n == t).map(|(n, _, _)| *n).expect("unknown target")],
        None => TARGETS.iter().map(|(n, _, _)| *n).collect(),
    };
    let per_target = a.seconds / names.len() as f64;
    println!("fuzzing {} target(s), {per_target:.1} s each, seed {}", names.len(), a.seed);
    let (mut passed, mut failed) = (0, 0);
    for name in names {
        let status = Command::new(std::env::current_exe().expect("own path"))
            .args(["--child", "--target", name, "--seconds", &per_target.to_string(), "--seed", &a.seed.to_string()])
            .status()
            .expect("start a fuzz child");
        if status.success() {
            passed += 1;
        } else {
            failed += 1;
            println!(
                "fuzz {name} ... FAILED ({status}); the input is in {}",
                out_dir().join(format!("{name}-crash.bin")).display()
            );
        }
    }
    println!("fuzz: {passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

/// Runs one target until the time is up; the exit code says how it went.
fn child(name: &str, seconds: f64, seed: u64) -> i32 {
    limit_address_space();
    let (_, entry, tokens) = TARGETS.iter().find(|(n, _, _)| *n == name).expect("known target");
    let corpus = load_corpus(&root().join("fuzz/corpus").join(name));
    assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty");
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create target/fuzz");
    let current = dir.join(format!("{name}-current.bin"));
    let crash = dir.join(format!("{name}-crash.bin"));
    let mut rng = Rng(seed ^ fnv(name.as_bytes()));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut runs = 0u64;
    let mut inputs = corpus.clone().into_iter();
    loop {
        let input = match inputs.next() {
            Some(seed_input) => seed_input,
            None if Instant::now() >= deadline => break,
            None => mutate(&corpus, tokens, &mut rng),
        };
        // Kept where a crash leaves it: an abort gives no chance to save it afterwards.
        let _ = std::fs::write(&current, &input);
        if std::panic::catch_unwind(|| entry(&input)).is_err() {
            let _ = std::fs::write(&crash, &input);
            println!("fuzz {name} ... panicked after {runs} inputs (seed {seed})");
            return 2;
        }
        runs += 1;
    }
    let _ = std::fs::remove_file(&current);
    println!("fuzz {name} ... ok ({runs} inputs in {seconds:.1} s, {} from the corpus)", corpus.len());
    0
}

fn limit_address_space() {
    let limit = libc::rlimit { rlim_cur: ADDRESS_SPACE, rlim_max: ADDRESS_SPACE };
    // SAFETY: setrlimit with a valid struct; it only lowers this process's own limit.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit);
    }
}

fn load_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

/// One to four mutations of a corpus input.
fn mutate(corpus: &[Vec<u8>], tokens: &[&str], rng: &mut Rng) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at..end);
            }
            4 if len > 0 => {
                // Repeat a piece many times: long fields, deep nesting, wide rows.
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let piece = data[at..end].to_vec();
                let times = 1 + rng.below(2000);
                let extra: Vec<u8> = piece.iter().copied().cycle().take(piece.len() * times).collect();
                data.splice(end..end, extra);
            }
            5 => {
                let token = tokens[rng.below(tokens.len())].as_bytes();
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            6 => {
                // Splice in part of another input.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(256)).min(other.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[from..to].iter().copied());
                }
            }
            _ if len > 0 => data.truncate(rng.below(len)),
            _ => {}
        }
    }
    data.truncate(MAX_INPUT);
    data
}

/// xorshift64*: quality does not matter, repeatability from a seed does.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3))
}
