//! The engine as the boundaries (C ABI, JNI) see it: JSON in, JSON out, one error type with a
//! kind. Both boundaries are thin skins over this, so they cannot drift apart.

use std::path::PathBuf;
use std::sync::RwLock;

use serde_json::Value;

use super::{Engine, EngineError, Mode, RunRequest};
use crate::config::{Config, ConfigErrors};
use crate::directory::Directory;
use crate::store::sqlite::SqliteStore;

/// What kind of failure a boundary call ended in; the C status and the Java exception type
/// follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad configuration or request JSON.
    Config,
    /// The state store failed.
    State,
    /// The directory failed outside a per-user operation (listing, locking).
    Directory,
    /// A request that cannot be carried out (unknown run, not held, engine closed, ...).
    Invalid,
    /// Another run of the connector is in progress.
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HostError {
    pub kind: ErrorKind,
    pub message: String,
}

impl HostError {
    fn config(message: impl Into<String>) -> Self {
        HostError { kind: ErrorKind::Config, message: message.into() }
    }
}

impl From<EngineError> for HostError {
    fn from(e: EngineError) -> Self {
        let kind = match &e {
            EngineError::Config(_) => ErrorKind::Config,
            EngineError::Store(_) => ErrorKind::State,
            EngineError::Directory(_) => ErrorKind::Directory,
            EngineError::Invalid(_) => ErrorKind::Invalid,
            EngineError::Busy(_) => ErrorKind::Busy,
        };
        HostError { kind, message: e.to_string() }
    }
}

impl From<ConfigErrors> for HostError {
    fn from(e: ConfigErrors) -> Self {
        HostError::config(e.to_string())
    }
}

pub struct HostEngine {
    engine: Engine,
    config: RwLock<Config>,
    /// The stored configuration as this engine last saw it. In a cluster another node may import a
    /// new one (the admin page), and every node must run what is stored, not what it read at its
    /// start: a change to it becomes the active configuration.
    followed: std::sync::Mutex<Option<(String, String)>>,
    /// When the store was last asked. Logins (every Basic-auth request in the app passes the
    /// login hook) ask at most every `LOGIN_FOLLOW_INTERVAL`; runs and the admin API always ask.
    checked: std::sync::Mutex<Option<std::time::Instant>>,
}

const LOGIN_FOLLOW_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("engine values serialise")
}

impl HostEngine {
    /// `base_dir` is where relative source paths in the configuration resolve (default: the
    /// process's working directory).
    pub fn new(
        state_path: &str,
        config_json: &str,
        base_dir: Option<&str>,
        directory: Box<dyn Directory>,
    ) -> Result<HostEngine, HostError> {
        let store = SqliteStore::open(&PathBuf::from(state_path)).map_err(EngineError::from)?;
        Self::with_store(Box::new(store), config_json, base_dir, directory)
    }

    /// An engine on the configuration its store holds, or on none yet (no connectors): where the
    /// admin console starts on a fresh data directory. `base_dir` is where relative paths of a
    /// configuration made there resolve.
    pub fn from_store_or_empty(
        store: Box<dyn crate::store::StateStore>,
        directory: Box<dyn Directory>,
        base_dir: &str,
    ) -> Result<HostEngine, HostError> {
        if store.config().map_err(EngineError::from)?.is_some() {
            return Self::from_stored_config(store, directory);
        }
        let config = Config {
            connectors: Vec::new(),
            operations: crate::config::Operations::default(),
            login: Default::default(),
            base_dir: PathBuf::from(base_dir),
        };
        Ok(HostEngine {
            engine: Engine::new(store, directory),
            config: RwLock::new(config),
            followed: Default::default(),
            checked: Default::default(),
        }
        .following_store())
    }

    /// An engine on the configuration its store holds (imported before): the configuration and
    /// its secrets never pass through the host.
    pub fn from_stored_config(
        store: Box<dyn crate::store::StateStore>,
        directory: Box<dyn Directory>,
    ) -> Result<HostEngine, HostError> {
        let Some((json, base_dir)) = store.config().map_err(EngineError::from)? else {
            return Err(HostError::config("no configuration is stored yet: import one first"));
        };
        Self::with_store(store, &json, Some(&base_dir), directory)
    }

    /// An engine whose state the host keeps (the app: its tables in the application's database).
    pub fn with_store(
        store: Box<dyn crate::store::StateStore>,
        config_json: &str,
        base_dir: Option<&str>,
        directory: Box<dyn Directory>,
    ) -> Result<HostEngine, HostError> {
        let config = parse_config(config_json, base_dir)?;
        Ok(HostEngine {
            engine: Engine::new(store, directory),
            config: RwLock::new(config),
            followed: Default::default(),
            checked: Default::default(),
        }
        .following_store())
    }

    /// From now on the active configuration is the stored one whenever that changes (see
    /// `followed`).
    fn following_store(self) -> HostEngine {
        *self.followed.lock().unwrap_or_else(|p| p.into_inner()) = self.engine.stored_config_text().ok().flatten();
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Answers a request to the SCIM endpoint (`path` after `/scim/v2`, `query` raw, `base` the
    /// endpoint's URL as the client sees it). See `Engine::scim`.
    pub fn scim(
        &self,
        base: &str,
        authorization: Option<&str>,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> Result<super::ScimAnswer, HostError> {
        let config = self.config();
        let query = crate::scim::query_pairs(query);
        let request = crate::scim::Request { method, path, query: &query, body };
        Ok(self.engine.scim(&config, base, authorization, &request)?)
    }

    fn config(&self) -> Config {
        self.follow_store();
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes up a configuration another node stored since this one last looked. A store that
    /// cannot be read, or a stored text that does not parse, leaves the active one in place.
    fn follow_store(&self) {
        *self.checked.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        let Ok(Some(stored)) = self.engine.stored_config_text() else { return };
        let mut seen = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        if seen.as_ref() == Some(&stored) {
            return;
        }
        match Config::from_json("stored configuration", &stored.0, PathBuf::from(&stored.1)) {
            Ok(config) => {
                tracing::info!("the stored configuration changed; {} connector(s) now", config.connectors.len());
                *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
            }
            Err(e) => tracing::warn!("the stored configuration changed but is not valid; the previous one stays: {e}"),
        }
        *seen = Some(stored);
    }

    /// The configuration for a login: the stored one is looked at only when it was not in the
    /// last `LOGIN_FOLLOW_INTERVAL`, so a burst of logins costs the store nothing.
    fn config_for_login(&self) -> Config {
        let due = self
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|at| at.elapsed() >= LOGIN_FOLLOW_INTERVAL);
        if due {
            self.follow_store();
        }
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The active configuration (the admin API edits it and imports the result).
    pub fn current_config(&self) -> Config {
        self.config()
    }

    /// Replaces the configuration; on error the old one stays. A running scheduler follows the
    /// new schedules.
    pub fn set_config(&self, config_json: &str, base_dir: Option<&str>) -> Result<(), HostError> {
        let config = parse_config(config_json, base_dir)?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config.clone();
        if self.engine.scheduler_running() {
            self.engine.start_scheduler(config)?;
        }
        Ok(())
    }

    /// Starts the scheduler on the current configuration (see `Engine::start_scheduler`).
    pub fn start_scheduler(&self) -> Result<(), HostError> {
        Ok(self.engine.start_scheduler(self.config())?)
    }

    /// Stops the scheduler, cancelling and waiting for the runs it started.
    pub fn stop_scheduler(&self) {
        self.engine.stop_scheduler();
    }

    /// The next `count` fire times as JSON: `[{"connector", "kind", "at"}]`, soonest first.
    pub fn next_fire_times(&self, count: usize) -> String {
        json(&self.engine.next_fire_times(&self.config(), count.min(1000)))
    }

    /// Runs and waits; returns the report as JSON (the object `usersync sync --json` prints).
    pub fn run(&self, request_json: &str) -> Result<String, HostError> {
        let request = parse_request(request_json)?;
        Ok(json(&self.engine.run(&self.config(), &request, &|_| {})?))
    }

    pub fn start(&self, request_json: &str) -> Result<i64, HostError> {
        let request = parse_request(request_json)?;
        Ok(self.engine.start(self.config(), request)?)
    }

    /// Progress as JSON: `{"run_id", "phase", "done", "total"}`.
    pub fn progress(&self, run_id: i64) -> Result<String, HostError> {
        let p = self.engine.progress(run_id).ok_or_else(|| HostError {
            kind: ErrorKind::Invalid,
            message: format!("run {run_id} was not started by this engine"),
        })?;
        Ok(json(&p))
    }

    pub fn cancel(&self, run_id: i64) -> Result<(), HostError> {
        if self.engine.cancel(run_id) {
            Ok(())
        } else {
            Err(HostError { kind: ErrorKind::Invalid, message: format!("run {run_id} was not started by this engine") })
        }
    }

    pub fn wait(&self, run_id: i64) -> Result<String, HostError> {
        Ok(json(&self.engine.wait(run_id)?))
    }

    pub fn approve(&self, run_id: i64) -> Result<String, HostError> {
        Ok(json(&self.engine.approve(run_id, Some(&self.config()), &|_| {})?))
    }

    /// Closes a held run without applying it: `{"run_id": the discard run, "discarded": run_id}`.
    pub fn discard(&self, run_id: i64) -> Result<String, HostError> {
        let id = self.engine.discard(run_id, "admin")?;
        Ok(json(&serde_json::json!({ "run_id": id, "discarded": run_id })))
    }

    pub fn history(&self, limit: usize) -> Result<String, HostError> {
        Ok(json(&self.engine.history(limit)?))
    }

    /// A run and its per-user results: `{"run": {...}, "results": [...]}`.
    pub fn results(&self, run_id: i64) -> Result<String, HostError> {
        let (run, results) = self.engine.run_details(run_id)?;
        Ok(json(&serde_json::json!({ "run": run, "results": results })))
    }

    /// `{"allow", "reason", "run_id"}`. Without a connector, the configuration's only one answers
    /// (an error names them when there are several).
    pub fn on_login(&self, connector: Option<&str>, username: &str) -> Result<String, HostError> {
        self.on_login_with(connector, username, &Default::default())
    }

    /// The login attributes `login.routes` compare (`["header:X-Idp"]`): what a host passes
    /// with `on_login_with`, and nothing more.
    pub fn login_attributes(&self) -> String {
        let config = self.config_for_login();
        let mut names: Vec<&str> = config.login.routes.iter().filter_map(|r| r.attribute.as_deref()).collect();
        names.sort_unstable();
        names.dedup();
        json(&names)
    }

    /// `on_login` with what the host knows of the login (`header:X-Idp`, ...): without a
    /// connector, `login.routes` and the connectors' priorities choose one.
    pub fn on_login_with(
        &self,
        connector: Option<&str>,
        username: &str,
        attributes: &std::collections::BTreeMap<String, String>,
    ) -> Result<String, HostError> {
        let config = self.config_for_login();
        if connector.is_none() && config.connectors.is_empty() {
            // The app before its first connector: every login is the application's own business.
            let decision =
                super::LoginDecision { allow: true, reason: "no connector is configured".into(), run_id: None };
            return Ok(json(&decision));
        }
        Ok(json(&match connector {
            Some(id) => self.engine.on_login(&config, id, username)?,
            None => self.engine.on_login_routed(&config, username, attributes)?,
        }))
    }

    /// Stores a configuration in the state store (secrets it leaves out are kept from the stored
    /// one) and makes it the active one: what the app does with a configuration file it finds.
    pub fn import_config(&self, config_json: &str, base_dir: Option<&str>) -> Result<(), HostError> {
        let base = base_dir.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        let config = self.engine.import_config("configuration", config_json, base)?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config.clone();
        if self.engine.scheduler_running() {
            self.engine.start_scheduler(config)?;
        }
        Ok(())
    }

    /// Every connector's schedules, for a host that runs them with its own scheduler (Atlassian
    /// Scheduler in the app): `[{"connector", "kind", "cron", "time_zone"}]`. The expressions are
    /// Quartz's syntax, which is also Atlassian Scheduler's.
    pub fn schedules(&self) -> String {
        let config = self.config();
        let mut out = Vec::new();
        for c in &config.connectors {
            let kinds = [("full", &c.schedule.full), ("incremental", &c.schedule.incremental)];
            for (kind, cron) in kinds {
                if let Some(cron) = cron {
                    let zone = config.operations.time_zone.name();
                    out.push(serde_json::json!({"connector": c.id, "kind": kind, "cron": cron, "time_zone": zone}));
                }
            }
        }
        json(&out)
    }

    /// A connection test: `{"connector", "ok", "steps": [{"step", "ok", "detail"}]}`.
    pub fn check(&self, connector: &str) -> Result<String, HostError> {
        Ok(json(&self.engine.check(&self.config(), connector)?))
    }

    pub fn close(&self) {
        self.engine.close();
    }
}

/// The text of a caught panic, for the boundaries' error messages.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Checks a configuration without keeping it.
pub fn validate_config(config_json: &str) -> Result<(), HostError> {
    parse_config(config_json, None).map(|_| ())
}

fn parse_config(config_json: &str, base_dir: Option<&str>) -> Result<Config, HostError> {
    let base = match base_dir {
        Some(b) => PathBuf::from(b),
        None => std::env::current_dir().unwrap_or_default(),
    };
    Ok(Config::from_json("configuration", config_json, base)?)
}

/// `{"connector": "id", "mode": "full" | "single_user", "user": "...", "simulate": false,
/// "trigger": "api"}`; every key optional except `user` with `single_user`.
pub fn parse_request(text: &str) -> Result<RunRequest, HostError> {
    let v: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(text).map_err(|e| HostError::config(format!("run request: not valid JSON: {e}")))?
    };
    let obj = v.as_object().ok_or_else(|| HostError::config("run request: expected a JSON object"))?;
    const KEYS: [&str; 5] = ["connector", "mode", "user", "simulate", "trigger"];
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(HostError::config(format!(
            "run request: unknown key '{k}' (expected one of: {})",
            KEYS.join(", ")
        )));
    }
    let text_of = |key: &str| -> Result<Option<String>, HostError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(HostError::config(format!("run request: '{key}' must be a string"))),
        }
    };
    let mode = match (text_of("mode")?.as_deref(), text_of("user")?) {
        (None | Some("full"), None) => Mode::Full,
        (Some("incremental"), None) => Mode::Incremental,
        (Some("single_user"), Some(user)) => Mode::SingleUser(user),
        (None, Some(user)) => Mode::SingleUser(user),
        (Some("single_user"), None) => return Err(HostError::config("run request: 'single_user' needs 'user'")),
        (Some("full" | "incremental"), Some(_)) => {
            return Err(HostError::config("run request: only a single_user run takes a 'user'"))
        }
        (Some(other), _) => {
            return Err(HostError::config(format!(
                "run request: unknown mode '{other}' (expected full, incremental or single_user)"
            )))
        }
    };
    let simulate = match obj.get("simulate") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(HostError::config("run request: 'simulate' must be true or false")),
    };
    Ok(RunRequest {
        connector: text_of("connector")?,
        mode,
        simulate,
        trigger: text_of("trigger")?.unwrap_or_else(|| "api".into()),
        scheduled_for: None,
    })
}
