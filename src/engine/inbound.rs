//! The `scim-inbound` connector inside the engine: the SCIM endpoint's resources live in the
//! state store, and each change an IdP pushes goes into the directory through the usual runs —
//! a single-user run at once for a created or changed user, and for deactivations and deletions
//! one full run when `deactivation_window_seconds` have passed since the first of them, guarded
//! like any other, so that a storm of them is held for approval instead of applied.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{lock, run_on, Engine, EngineError, Mode, RunControl, RunRequest, Shared};
use crate::config::{Config, ConnectorConfig, ScimInboundSource, SourceSettings};
use crate::connector::scim_inbound::{InboundConnector, Loader};
use crate::connector::{Connector, SourceError};
use crate::scim::{self, Backend, Change, ResourceKind};

/// The connector a run reads: the stored resources for `scim-inbound`, the source otherwise.
pub(crate) fn open_source(
    shared: &Arc<Shared>,
    c: &ConnectorConfig,
    base_dir: &Path,
) -> Result<Box<dyn Connector>, SourceError> {
    let SourceSettings::ScimInbound(settings) = &c.source else { return crate::connector::open(c, base_dir) };
    let (shared, id) = (shared.clone(), c.id.clone());
    let load: Loader = Box::new(move |kind, one| {
        let texts = match one {
            Some(rid) => shared.store.scim_resource(&id, kind, rid).map(|t| t.into_iter().collect()),
            None => shared.store.scim_resources(&id, kind),
        }
        .map_err(|e| format!("reading the pushed SCIM resources: {e}"))?;
        texts.iter().map(|t| serde_json::from_str(t).map_err(|e| format!("a stored SCIM resource: {e}"))).collect()
    });
    Ok(Box::new(InboundConnector::new(load, settings.groups, c.groups.clone())))
}

/// The answer to a SCIM request, with the header a 401 needs.
pub struct ScimAnswer {
    pub response: scim::Response,
    pub www_authenticate: bool,
}

impl Engine {
    /// Answers one request to the SCIM endpoint. `authorization` is the request's header; its
    /// bearer token says which `scim-inbound` connector the request is for. `base` is the
    /// endpoint's URL as the client reaches it (resource locations are made from it).
    pub fn scim(
        &self,
        config: &Config,
        base: &str,
        authorization: Option<&str>,
        request: &scim::Request,
    ) -> Result<ScimAnswer, EngineError> {
        let _call = self.enter()?;
        let presented = authorization
            .and_then(|a| a.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .unwrap_or("");
        // Every connector's token is compared, so the time taken says nothing about which one.
        let mut found = None;
        for c in &config.connectors {
            if let SourceSettings::ScimInbound(s) = &c.source {
                if crate::redact::same_secret(presented, s.bearer_token.expose()) && !presented.is_empty() {
                    found = Some((c, s));
                }
            }
        }
        let Some((connector, settings)) = found else {
            let e = scim::ScimError::new(401, None, "a valid bearer token is required");
            let response = scim::Response { status: 401, body: Some(e.body()), location: None };
            return Ok(ScimAnswer { response, www_authenticate: true });
        };
        // One write at a time: uniqueness is checked and the resource stored together.
        let _one = lock(&self.shared.scim_writes);
        let backend = Inbound { engine: self, config, connector, settings };
        Ok(ScimAnswer { response: scim::handle(&backend, base, request), www_authenticate: false })
    }

    /// A full run of `connector` once `window` has passed, unless one is already waiting.
    fn flush_after(&self, config: &Config, connector: &str, window: Duration) -> Result<(), EngineError> {
        if !lock(&self.shared.scim_flushes).insert(connector.to_string()) {
            return Ok(());
        }
        let (shared, config, id) = (self.shared.clone(), config.clone(), connector.to_string());
        let worker = std::thread::Builder::new()
            .name("usersync-scim-window".into())
            .spawn(move || {
                let deadline = Instant::now() + window;
                while Instant::now() < deadline && !shared.closed.load(Ordering::SeqCst) {
                    std::thread::sleep(
                        Duration::from_millis(50).min(deadline.saturating_duration_since(Instant::now())),
                    );
                }
                lock(&shared.scim_flushes).remove(&id);
                if shared.closed.load(Ordering::SeqCst) {
                    return;
                }
                let _call = shared.calls.enter();
                let request = RunRequest {
                    connector: Some(id.clone()),
                    mode: Mode::Full,
                    simulate: false,
                    trigger: "scim: deactivations".into(),
                    scheduled_for: None,
                };
                // Another run of the connector may be going; this one waits its turn.
                for _ in 0..600 {
                    match run_on(&shared, &config, &request, Arc::new(RunControl::default()), None, &|_| {}) {
                        Err(EngineError::Busy(_)) if !shared.closed.load(Ordering::SeqCst) => {
                            std::thread::sleep(Duration::from_millis(100))
                        }
                        Err(e) => {
                            tracing::warn!("scim-inbound {id}: the run for the window's deactivations failed: {e}");
                            return;
                        }
                        Ok(_) => return,
                    }
                }
            })
            .map_err(|e| EngineError::Invalid(format!("cannot start the SCIM window thread: {e}")))?;
        lock(&self.shared.workers).push(worker);
        Ok(())
    }
}

struct Inbound<'a> {
    engine: &'a Engine,
    config: &'a Config,
    connector: &'a ConnectorConfig,
    settings: &'a ScimInboundSource,
}

impl Inbound<'_> {
    fn store(&self) -> &dyn crate::store::StateStore {
        self.engine.shared.store.as_ref()
    }

    fn window(&self) -> Result<(), String> {
        let window = Duration::from_secs(self.settings.deactivation_window_seconds.into());
        self.engine.flush_after(self.config, &self.connector.id, window).map_err(|e| e.to_string())
    }

    /// The user's single-user run, now; when another run holds the connector, the window's run
    /// brings the change in instead.
    fn sync_user(&self, id: &str) -> Result<(), String> {
        let request = RunRequest {
            connector: Some(self.connector.id.clone()),
            mode: Mode::SingleUser(id.to_string()),
            simulate: false,
            trigger: "scim".into(),
            scheduled_for: None,
        };
        for _ in 0..40 {
            match run_on(&self.engine.shared, self.config, &request, Arc::default(), None, &|_| {}) {
                Ok(_) => return Ok(()),
                Err(EngineError::Busy(_)) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(e.to_string()),
            }
        }
        self.window()
    }

    fn active_user(&self, id: &str) -> Result<Option<bool>, String> {
        Ok(self.get(ResourceKind::User, id)?.map(|u| u["active"] != false))
    }
}

impl Backend for Inbound<'_> {
    fn all(&self, kind: ResourceKind) -> Result<Vec<Value>, String> {
        let texts = self.store().scim_resources(&self.connector.id, kind.name()).map_err(|e| e.to_string())?;
        texts.iter().map(|t| serde_json::from_str(t).map_err(|e| e.to_string())).collect()
    }

    fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, String> {
        let text = self.store().scim_resource(&self.connector.id, kind.name(), id).map_err(|e| e.to_string())?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| e.to_string())).transpose()
    }

    fn put(&self, kind: ResourceKind, id: &str, resource: Option<&Value>) -> Result<(), String> {
        let text = resource.map(Value::to_string);
        self.store().put_scim_resource(&self.connector.id, kind.name(), id, text.as_deref()).map_err(|e| e.to_string())
    }

    fn new_id(&self) -> String {
        let mut bytes = [0u8; 16];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.engine.shared.clock)()
    }

    fn changed(&self, change: Change) -> Result<(), String> {
        match change {
            // An inactive user waits for the window, whatever else changed.
            Change::User { id, deactivated } => match (deactivated, self.active_user(&id)?) {
                (false, Some(true)) => self.sync_user(&id),
                _ => self.window(),
            },
            Change::UserDeleted { .. } => self.window(),
            Change::Group { members } => {
                let mut seen = HashSet::new();
                for m in members.iter().filter(|m| seen.insert(m.as_str())) {
                    match self.active_user(m)? {
                        Some(true) => self.sync_user(m)?,
                        Some(false) => {}
                        // A nested group: its members' groups change too; the window's run reads all.
                        None => self.window()?,
                    }
                }
                Ok(())
            }
        }
    }
}
