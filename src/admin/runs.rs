//! Runs: start (simulated or real, full or one user), progress, cancel, approve, the history
//! with filters and paging, a run's per-user results a page at a time, a run as a download, and
//! the schedules with their next fire times.

use serde_json::{json, Value};

use super::{query, AdminApi, ApiRequest, ApiResponse};
use crate::engine::host::HostError;

/// At most this many runs or results in one answer.
const MAX_PAGE: usize = 1000;

pub(super) fn with_id(id: &str, f: impl FnOnce(i64) -> ApiResponse) -> ApiResponse {
    match id.parse::<i64>() {
        Ok(id) => f(id),
        Err(_) => ApiResponse::error(404, format!("no run with id '{id}'")),
    }
}

fn number(r: &ApiRequest, name: &str, default: usize) -> Result<usize, ApiResponse> {
    match query(r, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ApiResponse::error(400, format!("'{name}' must be a whole number"))),
    }
}

/// `{"time_zone", "schedules": [{"connector", "kind", "cron", "time_zone"}], "next": [{"connector",
/// "kind", "at", "local"}]}`: each next fire time in UTC and as wall-clock time in the configured
/// zone, which is where the cron expressions are read.
pub(super) fn schedules(api: &AdminApi) -> ApiResponse {
    let config = api.host().current_config();
    let zone = config.operations.time_zone;
    let schedules: Value = serde_json::from_str(&api.host().schedules()).unwrap_or_default();
    let next: Vec<Value> = api
        .host()
        .engine()
        .next_fire_times(&config, 10)
        .into_iter()
        .map(|f| {
            let local = f.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string();
            json!({ "connector": f.connector, "kind": f.kind, "at": f.at, "local": local })
        })
        .collect();
    ApiResponse::json(200, &json!({ "time_zone": zone.name(), "schedules": schedules, "next": next }))
}

/// `{"runs": [...], "next_before"}`: newest first, filtered by `connector` and `status`, a page
/// of `limit` before the run id `before`.
pub(super) fn history(api: &AdminApi, r: &ApiRequest) -> ApiResponse {
    let (limit, before) = match (number(r, "limit", 50), number(r, "before", i64::MAX as usize)) {
        (Ok(l), Ok(b)) => (l.clamp(1, MAX_PAGE), i64::try_from(b).unwrap_or(i64::MAX)),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let connector = query(r, "connector");
    let status = query(r, "status");
    let runs = match api.host().engine().history(usize::MAX) {
        Ok(runs) => runs,
        Err(e) => return HostError::from(e).into(),
    };
    let mut page: Vec<Value> = Vec::new();
    let mut more = false;
    for run in runs.into_iter().filter(|run| run.id < before) {
        if connector.as_ref().is_some_and(|c| *c != run.connector)
            || status.as_ref().is_some_and(|s| s != run.status.as_str())
        {
            continue;
        }
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(serde_json::to_value(&run).unwrap_or_default());
    }
    let next = if more { page.last().map(|r| r["id"].clone()) } else { None };
    ApiResponse::json(200, &json!({ "runs": page, "next_before": next }))
}

/// Starts a run on its own thread: `{"connector", "mode", "user", "simulate"}` → 202 `{"run_id"}`.
pub(super) fn start(api: &AdminApi, body: &Value) -> ApiResponse {
    let mut request = serde_json::Map::new();
    for key in ["connector", "mode", "user", "simulate"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            request.insert(key.into(), v.clone());
        }
    }
    request.insert("trigger".into(), json!("admin"));
    match api.host().start(&Value::Object(request).to_string()) {
        Ok(id) => ApiResponse::json(202, &json!({ "run_id": id })),
        Err(e) => e.into(),
    }
}

pub(super) fn read(api: &AdminApi, id: i64) -> ApiResponse {
    match api.host().engine().run_details(id) {
        Ok((mut run, results)) => {
            run.config = None;
            ApiResponse::json(200, &json!({ "run": run, "results": results.len() }))
        }
        Err(e) => HostError::from(e).into(),
    }
}

/// A page of a run's per-user results: `outcome` keeps those with that outcome, `q` those whose
/// username or IdP id contains it (ignoring case); `offset` and `limit` page.
pub(super) fn results(api: &AdminApi, id: i64, r: &ApiRequest) -> ApiResponse {
    let (offset, limit) = match (number(r, "offset", 0), number(r, "limit", 100)) {
        (Ok(o), Ok(l)) => (o, l.clamp(1, MAX_PAGE)),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let outcome = query(r, "outcome");
    let q = query(r, "q").map(|q| q.to_lowercase());
    let results = match api.host().engine().run_details(id) {
        Ok((_, results)) => results,
        Err(e) => return HostError::from(e).into(),
    };
    let matching: Vec<_> = results
        .into_iter()
        .filter(|u| outcome.as_ref().is_none_or(|o| u.outcomes.iter().any(|x| x == o)))
        .filter(|u| {
            q.as_ref().is_none_or(|q| {
                u.username.to_lowercase().contains(q)
                    || u.idp_id.as_deref().is_some_and(|i| i.to_lowercase().contains(q))
            })
        })
        .collect();
    let total = matching.len();
    let page: Vec<Value> =
        matching.into_iter().skip(offset).take(limit).map(|u| serde_json::to_value(u).unwrap_or_default()).collect();
    ApiResponse::json(200, &json!({ "run_id": id, "total": total, "offset": offset, "results": page }))
}

/// The whole run and its results, as a file.
pub(super) fn download(api: &AdminApi, id: i64) -> ApiResponse {
    match api.host().results(id) {
        Ok(text) => {
            let mut answer = ApiResponse::json(200, &serde_json::from_str(&text).unwrap_or_default());
            answer.filename = Some(format!("usersync-run-{id}.json"));
            answer
        }
        Err(e) => e.into(),
    }
}
