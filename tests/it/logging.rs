//! The host log sink: one start and one stop line per run, and never a secret.

use std::sync::{Arc, Mutex};

use serde_json::json;
use usersync::config::Config;
use usersync::engine::RunRequest;
use usersync::logging::{set_sink, LogRecord};

use crate::support::{connector, people, Harness};

#[test]
fn a_host_sink_receives_start_and_stop_lines_and_no_secrets() {
    let lines: Arc<Mutex<Vec<LogRecord>>> = Arc::default();
    let sink = lines.clone();
    assert!(set_sink(tracing::Level::TRACE, Box::new(move |r| sink.lock().unwrap().push(r.clone()))));

    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({ "id": "logged" })));
    let report = h.sync(&config);
    let token = "tok-9f8e7d-SECRET";
    let okta = json!({ "connectors": [{ "id": "okta-logged", "type": "okta",
        "source": { "org_url": "http://127.0.0.1:9", "api_token": token, "http": { "max_attempts": 1 } },
        "mapping": [{ "target": "username", "source": "login" }] }] });
    let okta = Config::from_json("c", &okta.to_string(), ".".into()).unwrap();
    h.engine.run(&okta, &RunRequest::full(None), &|_| {}).unwrap();

    let lines = lines.lock().unwrap();
    let ours: Vec<&LogRecord> = lines.iter().filter(|l| l.message.contains("connector 'logged'")).collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours[0].level, "INFO");
    assert!(
        ours[0].message.starts_with(&format!("run {} started: connector 'logged', mode full", report.run_id)),
        "{}",
        ours[0].message
    );
    assert!(ours[1].message.contains("finished: DONE (created 3"), "{}", ours[1].message);
    assert!(ours[1].target.starts_with("usersync::engine"), "{}", ours[1].target);
    assert!(lines.iter().any(|l| l.message.contains("connector 'okta-logged' finished: FAILED")));
    assert!(lines.iter().all(|l| !l.message.contains(token)), "a secret reached the log");
}
