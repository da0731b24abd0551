//! The `usersync` command line: syncs into the embedded local directory.

/// `println!` that ignores a closed pipe (`usersync users | head` must not panic).
/// A line to stdout, through the redaction layer. A closed stdout is not an error worth a panic.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($t)*);
        let _ = writeln!(std::io::stdout().lock(), "{}", usersync::redact::document(&line));
    }};
}

/// A line to stderr, through the redaction layer; a closed stderr (`2>&-`, a dead pipe) is
/// ignored rather than a panic and exit 101.
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($t)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", usersync::redact::text(&line));
    }};
}

mod output;
mod password;
mod serve;
mod signals;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use usersync::config::{export_value, Config};
use usersync::directory::local::LocalDirectory;
use usersync::engine::{Engine, EngineError, Mode, RunRequest};
use usersync::store::sqlite::SqliteStore;

/// Synchronise users from identity providers into a directory.
#[derive(Parser)]
#[command(name = "usersync", version, about, long_about = None)]
struct Cli {
    /// Where the state store and the local directory live.
    #[arg(long, global = true, env = "USERSYNC_DATA_DIR", default_value = ".usersync")]
    data_dir: PathBuf,
    /// More log output on standard error (-v: run start/stop lines, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a sync.
    Sync(SyncArgs),
    /// Apply the operations a HELD run held back, after re-checking them.
    Approve {
        run_id: i64,
        /// Configuration to use (default: the one the held run recorded).
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Validate, import or export configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Test mapping rules against one source user.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Test a connector's connection: authenticate, read a little, say what is missing.
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        connector: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the users of the local directory.
    Users {
        #[arg(long)]
        json: bool,
    },
    /// List past runs, newest first.
    History {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Inspect one run.
    #[command(subcommand)]
    Run(RunCommand),
    /// Serve the admin console (the page and its API) until stopped; loopback by default.
    Serve {
        /// Address to listen on (port 0: any free port; the chosen one is printed).
        #[arg(long, default_value = "127.0.0.1:8765")]
        listen: String,
        /// Set the admin password (the first line of standard input; at least 12 characters),
        /// an alternative to the access token, and exit.
        #[arg(long)]
        set_password: bool,
    },
    /// Run the connectors' schedules in the foreground until SIGTERM or Ctrl-C: each run logs a
    /// start and a stop line; stopping cancels the current run between users.
    Daemon {
        /// Configuration file (default: the imported configuration).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Args)]
struct SyncArgs {
    /// Configuration file (default: the imported configuration).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Connector id (needed when several are configured).
    #[arg(long)]
    connector: Option<String>,
    /// Plan and report without writing anything.
    #[arg(long)]
    simulate: bool,
    /// Sync one user, by source id or username; no cleanup pass.
    #[arg(long, conflicts_with = "incremental")]
    user: Option<String>,
    /// Only what changed since the last successful incremental run (Entra delta); sources
    /// without incremental reads run a full sync.
    #[arg(long)]
    incremental: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a configuration file and report every error with its JSON path.
    Validate { file: PathBuf },
    /// Store a configuration as the active one (secrets the file leaves out are kept).
    Import { file: PathBuf },
    /// Print the active configuration; secrets are left out unless asked for.
    Export {
        #[arg(long)]
        include_secrets: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum MappingCommand {
    /// Which connector answers for a login (login.routes, then who manages the user, then
    /// priority), and why.
    Route {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The login name (a username or an e-mail address).
        #[arg(long)]
        user: String,
        /// What the host passes with the login, as NAME=VALUE (e.g. header:X-Idp=okta); repeatable.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
    },
    /// Show the source attributes of one user and what each rule makes of them.
    Test {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        connector: String,
        /// The user's id in the source (the id column's value).
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RunCommand {
    /// A run's summary and per-user results.
    Show {
        run_id: i64,
        /// The full per-user results as JSON (field-level before/after).
        #[arg(long)]
        json: bool,
    },
}

/// Exit codes (README): 0 DONE, 1 FAILED / other errors, 2 configuration error, 3 HELD,
/// 4 PARTIALLY_FAILED, 5 SKIPPED (another run of the connector holds its lock).
const EXIT_FAILED: u8 = 1;
const EXIT_CONFIG: u8 = 2;
const EXIT_SKIPPED: u8 = 5;

/// The command line owns its process, so it may choose its allocator (a library inside a JVM
/// must not). Rust's allocations go to mimalloc: a run makes and drops some 45 objects per user,
/// and with mimalloc the same run took a fifth to a quarter less CPU than with glibc's malloc
/// (docs/PERFORMANCE.md, ninth and tenth sessions).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SQLite allocates from glibc: large buffers go to the system and back when freed, instead of
/// glibc raising its mmap threshold after the first one and keeping the rest in per-thread
/// arenas, and two arenas serve the run's threads. Transparent huge pages are off for the
/// process: with them on, mimalloc's peaks at 100,000 users were 15-30 MB higher (tenth
/// session), as a huge page counts in full however little of it is in use.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters and prctl only a flag of this process;
    // called first thing in main, before any thread of ours.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let level = match cli.verbose {
        // The daemon's start and stop lines are what an administrator watches.
        0 if matches!(cli.command, Command::Daemon { .. }) => tracing::Level::INFO,
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt().with_writer(|| RedactedStderr).with_max_level(level).with_target(false).init();
    let result = run(cli);
    // With -v: what this command cost in memory, for administrators sizing a host (and for the
    // tests that hold hostile input to a bound).
    if let Some(kib) = peak_memory_kib() {
        tracing::info!("peak resident memory: {} MiB", kib / 1024);
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            err!("error: {e}");
            ExitCode::from(match e {
                EngineError::Config(_) => EXIT_CONFIG,
                EngineError::Busy(_) => EXIT_SKIPPED,
                _ => EXIT_FAILED,
            })
        }
    }
}

/// This process's peak resident set (`VmHWM`), where /proc says it.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()
}

/// Log lines to stderr through the redaction layer. `fmt` writes each event in one call, so each
/// call holds whole lines; write errors (a closed stderr) are swallowed.
struct RedactedStderr;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let _ = std::io::stderr().lock().write_all(usersync::redact::document(&text).as_bytes());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn open_engine(data_dir: &Path) -> Result<Engine, EngineError> {
    let store = SqliteStore::open(&data_dir.join("state.db"))?;
    let directory = LocalDirectory::open(&data_dir.join("directory.db"))?;
    Ok(Engine::new(Box::new(store), Box::new(directory)))
}

/// The configuration from a file, or else the imported one.
fn load_config(engine: &Engine, file: Option<&Path>) -> Result<Config, EngineError> {
    match file {
        Some(f) => Ok(Config::load(f)?),
        None => engine.stored_config()?.ok_or_else(|| {
            EngineError::Config(usersync::config::ConfigErrors::one(
                "configuration",
                "",
                "no configuration: pass --config FILE or import one with 'usersync config import FILE'",
            ))
        }),
    }
}

fn run(cli: Cli) -> Result<u8, EngineError> {
    match cli.command {
        Command::Config(ConfigCommand::Validate { file }) => {
            let config = Config::load(&file)?;
            out!(
                "{}: valid ({} connector(s): {})",
                file.display(),
                config.connectors.len(),
                config.connectors.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
            );
            Ok(0)
        }
        Command::Config(ConfigCommand::Import { file }) => {
            let engine = open_engine(&cli.data_dir)?;
            let text = std::fs::read_to_string(&file).map_err(|e| {
                usersync::config::ConfigErrors::one(
                    &file.display().to_string(),
                    "",
                    format!("cannot read the file: {e}"),
                )
            })?;
            let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
            let base = std::fs::canonicalize(&base).unwrap_or(base);
            let config = engine.import_config(&file.display().to_string(), &text, base)?;
            out!("imported {} connector(s) from {}", config.connectors.len(), file.display());
            Ok(0)
        }
        Command::Config(ConfigCommand::Export { include_secrets, output }) => {
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, None)?;
            let text =
                serde_json::to_string_pretty(&export_value(&config, include_secrets)).expect("serialises") + "\n";
            // Written as is: an export that asked for secrets must hold them (and says so).
            match output {
                Some(path) => usersync::private_file::write(&path, text.as_bytes())
                    .map_err(|e| EngineError::Invalid(format!("cannot write {}: {e}", path.display())))?,
                None => {
                    use std::io::Write as _;
                    let _ = std::io::stdout().lock().write_all(text.as_bytes());
                }
            }
            if include_secrets {
                err!("note: this export contains the configuration's secrets in plain text (--include-secrets); keep it like a password");
            }
            Ok(0)
        }
        Command::Mapping(MappingCommand::Route { config, user, attributes }) => {
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, config.as_deref())?;
            let mut given = std::collections::BTreeMap::new();
            for a in &attributes {
                let Some((name, value)) = a.split_once('=') else {
                    return Err(EngineError::Invalid(format!("--attribute '{a}': write it as NAME=VALUE")));
                };
                given.insert(name.to_string(), value.to_string());
            }
            let route = engine.route_login(&config, &user, &given)?;
            match &route.connector {
                Some(c) => out!("{user}: connector '{c}' answers ({})", route.why),
                None => out!("{user}: no connector answers ({})", route.why),
            }
            Ok(0)
        }
        Command::Mapping(MappingCommand::Test { config, connector, user, json }) => {
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, config.as_deref())?;
            let test = engine.test_mapping(&config, &connector, &user)?;
            if json {
                out!("{}", serde_json::to_string_pretty(&test).expect("serialises"));
            } else {
                output::print_mapping_test(&test);
            }
            Ok(0)
        }
        Command::Sync(args) => {
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, args.config.as_deref())?;
            let request = RunRequest {
                connector: args.connector,
                mode: match (args.user, args.incremental) {
                    (Some(user), _) => Mode::SingleUser(user),
                    (None, true) => Mode::Incremental,
                    (None, false) => Mode::Full,
                },
                simulate: args.simulate,
                trigger: "manual".into(),
                scheduled_for: None,
            };
            let bar = output::ProgressLine::new(std::io::stderr().is_terminal());
            let report = signals::cancel_on_signal(&engine, || engine.run(&config, &request, &|p| bar.show(p)))?;
            bar.finish();
            output::print_report(&report, args.json);
            Ok(report.exit_code() as u8)
        }
        Command::Approve { run_id, config, json } => {
            let engine = open_engine(&cli.data_dir)?;
            let config = config.map(|f| Config::load(&f)).transpose()?;
            let bar = output::ProgressLine::new(std::io::stderr().is_terminal());
            let report =
                signals::cancel_on_signal(&engine, || engine.approve(run_id, config.as_ref(), &|p| bar.show(p)))?;
            bar.finish();
            output::print_report(&report, json);
            Ok(report.exit_code() as u8)
        }
        Command::Check { config, connector, json } => {
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, config.as_deref())?;
            let id = match connector {
                Some(id) => id,
                None if config.connectors.len() == 1 => config.connectors[0].id.clone(),
                None => {
                    return Err(EngineError::Invalid(
                        "several connectors are configured; name one with --connector".into(),
                    ))
                }
            };
            let report = engine.check(&config, &id)?;
            if json {
                out!("{}", serde_json::to_string(&report).expect("serialises"));
            } else {
                for s in &report.steps {
                    out!("{} {}: {}", if s.ok { "ok  " } else { "FAIL" }, s.step, s.detail);
                }
                out!("connector '{}': {}", report.connector, if report.ok { "ready" } else { "not ready" });
            }
            Ok(if report.ok { 0 } else { EXIT_FAILED })
        }
        Command::Users { json } => {
            let engine = open_engine(&cli.data_dir)?;
            let users = engine.directory().list_users()?;
            if json {
                out!("{}", serde_json::to_string_pretty(&users).expect("serialises"));
            } else {
                output::print_users(&users);
            }
            Ok(0)
        }
        Command::History { json, limit } => {
            let engine = open_engine(&cli.data_dir)?;
            let runs = engine.history(limit)?;
            if json {
                out!("{}", serde_json::to_string_pretty(&runs).expect("serialises"));
            } else {
                output::print_history(&runs);
            }
            Ok(0)
        }
        Command::Serve { set_password: true, .. } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| EngineError::Invalid(format!("standard input: {e}")))?;
            password::set(&cli.data_dir, &line).map_err(EngineError::Invalid)?;
            out!("the admin password is set; usersync serve accepts it from now on");
            Ok(0)
        }
        Command::Serve { listen, .. } => {
            let store = SqliteStore::open(&cli.data_dir.join("state.db"))?;
            let directory = LocalDirectory::open(&cli.data_dir.join("directory.db"))?;
            let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let host = usersync::engine::host::HostEngine::from_store_or_empty(
                Box::new(store),
                Box::new(directory),
                &base.to_string_lossy(),
            )
            .map_err(|e| EngineError::Invalid(e.message))?;
            let api = usersync::admin::AdminApi::new(std::sync::Arc::new(host));
            serve::serve(api, &cli.data_dir, &listen).map_err(|e| EngineError::Invalid(e.to_string()))?;
            Ok(0)
        }
        Command::Daemon { config } => {
            signals::install();
            let engine = open_engine(&cli.data_dir)?;
            let config = load_config(&engine, config.as_deref())?;
            for f in engine.next_fire_times(&config, 3) {
                tracing::info!("next: {} run of connector '{}' at {}", f.kind.as_str(), f.connector, f.at);
            }
            engine.start_scheduler(config)?;
            signals::wait();
            tracing::info!("stopping: the current run, if any, is cancelled between users");
            engine.stop_scheduler();
            Ok(0)
        }
        Command::Run(RunCommand::Show { run_id, json }) => {
            let engine = open_engine(&cli.data_dir)?;
            let (run, results) = engine.run_details(run_id)?;
            if json {
                let doc = serde_json::json!({ "run": run, "results": results });
                out!("{}", serde_json::to_string_pretty(&doc).expect("serialises"));
            } else {
                output::print_run(&run, &results);
            }
            Ok(0)
        }
    }
}
