//! Shared test harness: an engine over a temporary state store and local directory, CSV
//! builders, a controllable clock, a runner for the real CLI binary, and the IdP emulators.

pub mod google;
pub mod graph;
pub mod http_server;
pub mod keycloak;
pub mod okta;
pub mod onelogin;
pub mod scim2;
pub mod slapd;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use tempfile::TempDir;

use usersync::config::Config;
use usersync::directory::local::LocalDirectory;
use usersync::engine::{Engine, Mode, RunReport, RunRequest};
use usersync::model::DirectoryUser;
use usersync::store::sqlite::SqliteStore;

pub const HEADER: &str = "id,user,name,mail,status,groups";

/// One CSV row in the standard test layout.
pub fn row(id: u32, user: &str, groups: &str) -> String {
    format!("{id},{user},{} Person,{user}@example.com,active,{groups}", capitalise(user))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// `n` users named user1..userN, ids 101.., all in group Staff.
pub fn people(n: u32) -> Vec<String> {
    (1..=n).map(|i| row(100 + i, &format!("user{i}"), "Staff")).collect()
}

pub fn csv(rows: &[String]) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        out.push('\n');
        out.push_str(r);
    }
    out.push('\n');
    out
}

/// The standard CSV connector, with `patch` merged over it.
pub fn connector(patch: Value) -> Value {
    let mut base = json!({
        "id": "hr",
        "type": "csv",
        "source": { "path": "users.csv", "id_column": "id", "active_column": "status", "groups_column": "groups" },
        "mapping": [
            { "target": "username", "source": "user" },
            { "target": "display_name", "source": "name" },
            { "target": "email", "source": "mail" }
        ]
    });
    merge(&mut base, patch);
    base
}

pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

pub struct Harness {
    pub dir: TempDir,
    pub engine: Engine,
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let now = Arc::new(Mutex::new(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()));
        let clock = now.clone();
        let engine = Engine::new(
            Box::new(SqliteStore::open(&dir.path().join("state.db")).unwrap()),
            Box::new(LocalDirectory::open(&dir.path().join("directory.db")).unwrap()),
        )
        .with_clock(Box::new(move || *clock.lock().unwrap()));
        Harness { dir, engine, now }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn write_users(&self, rows: &[String]) {
        self.write("users.csv", csv(rows));
    }

    pub fn config(&self, connector: Value) -> Config {
        let doc = json!({ "connectors": [connector] });
        Config::from_json("test", &doc.to_string(), self.dir.path().to_path_buf()).expect("valid test config")
    }

    /// `config` with an `operations` section.
    pub fn config_with(&self, connector: Value, operations: Value) -> Config {
        let doc = json!({ "connectors": [connector], "operations": operations });
        Config::from_json("test", &doc.to_string(), self.dir.path().to_path_buf()).expect("valid test config")
    }

    pub fn sync(&self, config: &Config) -> RunReport {
        self.engine.run(config, &RunRequest::full(None), &|_| {}).expect("run starts")
    }

    /// Reads the source of `config`'s first connector as a full run does (`fetch_each`): how
    /// many users it handed over, and what `probe` answered as the first one was handed over
    /// (say, how many pages of users the source had served by then). A source that hands its
    /// users over as it reads them has served one page then, not all of them.
    pub fn read_source_probing<T>(&self, config: &Config, probe: impl Fn() -> T) -> (usize, Option<T>) {
        let mut source = usersync::connector::open(&config.connectors[0], &config.base_dir).expect("source opens");
        let (mut handed, mut seen) = (0, None);
        source
            .fetch_each(&mut |_| {
                if handed == 0 {
                    seen = Some(probe());
                }
                handed += 1;
            })
            .expect("source reads");
        (handed, seen)
    }

    pub fn simulate(&self, config: &Config) -> RunReport {
        let req = RunRequest { simulate: true, ..RunRequest::full(None) };
        self.engine.run(config, &req, &|_| {}).expect("run starts")
    }

    pub fn sync_user(&self, config: &Config, who: &str) -> RunReport {
        let req = RunRequest { mode: Mode::SingleUser(who.into()), ..RunRequest::full(None) };
        self.engine.run(config, &req, &|_| {}).expect("run starts")
    }

    pub fn users(&self) -> Vec<DirectoryUser> {
        self.engine.directory().list_users().unwrap()
    }

    pub fn user(&self, username: &str) -> DirectoryUser {
        self.users()
            .into_iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no directory user '{username}'"))
    }

    pub fn find(&self, username: &str) -> Option<DirectoryUser> {
        self.users().into_iter().find(|u| u.username == username)
    }

    pub fn active_usernames(&self) -> Vec<String> {
        self.users().into_iter().filter(|u| u.active).map(|u| u.username.to_string()).collect()
    }

    pub fn advance_days(&self, days: i64) {
        *self.now.lock().unwrap() += Duration::days(days);
    }

    pub fn advance_seconds(&self, seconds: i64) {
        *self.now.lock().unwrap() += Duration::seconds(seconds);
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap()
    }
}

/// Runs the real `usersync` binary: (exit code, stdout, stderr).
pub fn cli(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("usersync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `usersync serve` on any free loopback port, and the first line it printed.
pub fn spawn_serve(data_dir: &Path) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--data-dir", data_dir.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    (child, first)
}

pub fn quickstart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}
