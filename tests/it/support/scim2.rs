//! scim2-server (PyPI, the reference SCIM service provider of the python-scim project) started on
//! 127.0.0.1 for a test and stopped with it. The test command installs it in a virtual
//! environment (scripts/scim-venv.sh, `USERSYNC_SCIM_VENV`); run alone, a test says how.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const TOKEN: &str = "scim-test-token-7f3a";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The custom extension the tests add to the User resource type.
pub const CUSTOM: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

pub fn venv() -> PathBuf {
    let dir = std::env::var_os("USERSYNC_SCIM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/scim-venv"));
    assert!(
        dir.join("bin/scim2-server").exists(),
        "scim2-server is not installed in {}: run `bash scripts/scim-venv.sh` (scripts/test.sh does), \
         which installs scim2-server, scim2-tester and scim2-client from PyPI",
        dir.display()
    );
    dir
}

pub struct Scim2Server {
    child: Child,
    pub url: String,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// The server's settings beyond the defaults.
#[derive(Default)]
pub struct Options {
    /// `pagination.maxPageSize` (RFC 9865 §4): the server's own page size.
    pub max_page_size: Option<u32>,
    /// Announce cursor paging (RFC 9865) besides index paging.
    pub cursor: bool,
    /// Serve the custom extension `CUSTOM` on users (its `costCenter` and `badge`).
    pub custom_extension: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Scim2Server {
    pub fn start(options: Options) -> Scim2Server {
        let venv = venv();
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec!["--bearer-token".into(), TOKEN.into()];
        let spc = service_provider_config(&options);
        std::fs::write(dir.path().join("spc.json"), spc.to_string()).unwrap();
        args.extend(["--service-provider-config".into(), dir.path().join("spc.json").display().to_string()]);
        if options.custom_extension {
            std::fs::write(dir.path().join("schemas.json"), schemas().to_string()).unwrap();
            std::fs::write(dir.path().join("types.json"), resource_types().to_string()).unwrap();
            args.extend(["--schema".into(), dir.path().join("schemas.json").display().to_string()]);
            args.extend(["--resource-type".into(), dir.path().join("types.json").display().to_string()]);
        }
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(venv.join("bin/scim2-server"))
            .args(&args)
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("scim2-server starts");
        let agent = ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
        let server = Scim2Server { child, url: format!("http://127.0.0.1:{port}/v2"), agent, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.call("GET", "/ServiceProviderConfig", None).0 != 200 {
            assert!(Instant::now() < deadline, "scim2-server did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// One request with the bearer token: (status, body).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/scim+json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .unwrap();
        match self.agent.run(req) {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let text = res.body_mut().read_to_string().unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Creates a resource and returns it as the server stored it.
    pub fn create(&self, resource: &str, body: Value) -> Value {
        let (status, v) = self.call("POST", &format!("/{resource}"), Some(&body));
        assert_eq!(status, 201, "POST /{resource}: {v}");
        v
    }

    /// Every resource of a type, read with the server's own paging.
    pub fn all(&self, resource: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let (status, page) =
                self.call("GET", &format!("/{resource}?startIndex={}&count=1000", out.len() + 1), None);
            assert_eq!(status, 200, "{page}");
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return out;
            }
            out.extend(items);
        }
    }

    /// The server's request log (one line per request, as its WSGI server writes them).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn source(&self) -> Value {
        json!({ "base_url": self.url, "bearer_token": TOKEN, "http": { "retry_base_ms": 10, "timeout_seconds": 10 } })
    }
}

impl Drop for Scim2Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// scim2-server's default configuration (every feature but cursor paging), with the options.
fn service_provider_config(options: &Options) -> Value {
    let mut spc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": 1000 },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{ "type": "oauthbearertoken", "name": "bearer_token",
            "description": "HTTP Bearer Token", "specUri": "https://datatracker.ietf.org/doc/html/rfc6750" }]
    });
    if options.cursor || options.max_page_size.is_some() {
        let size = options.max_page_size.unwrap_or(1000);
        spc["pagination"] = json!({ "cursor": options.cursor, "index": true, "defaultPaginationMethod": "index",
            "defaultPageSize": size, "maxPageSize": size, "cursorTimeout": 3600 });
    }
    spc
}

/// RFC 7643's schemas as scim2-server serves them by default, and the custom extension.
fn schemas() -> Value {
    let attr = |name: &str, kind: &str| {
        json!({ "name": name, "type": kind, "multiValued": false, "required": false, "caseExact": false,
            "mutability": "readWrite", "returned": "default", "uniqueness": "none" })
    };
    let custom = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CUSTOM, "name": "AcmeUser", "description": "Acme's user attributes",
        "attributes": [attr("costCenter", "string"), attr("badge", "integer")]
    });
    let mut list = default_schemas();
    list.push(custom);
    Value::Array(list)
}

/// The schemas a default scim2-server serves (read from one, so that they are its own).
fn default_schemas() -> Vec<Value> {
    let plain = Scim2Server::start_plain();
    let (_, page) = plain.call("GET", "/Schemas", None);
    page["Resources"].as_array().unwrap().iter().map(strip_meta).collect()
}

fn resource_types() -> Value {
    let plain = Scim2Server::start_plain();
    let (_, page) = plain.call("GET", "/ResourceTypes", None);
    let mut types: Vec<Value> = page["Resources"].as_array().unwrap().iter().map(strip_meta).collect();
    for t in &mut types {
        if t["id"] == "User" {
            t["schemaExtensions"].as_array_mut().unwrap().push(json!({ "schema": CUSTOM, "required": false }));
        }
    }
    Value::Array(types)
}

fn strip_meta(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("meta");
    v
}

impl Scim2Server {
    fn start_plain() -> Scim2Server {
        Scim2Server::start(Options::default())
    }
}
