//! A small HTTP/1.1 server on 127.0.0.1 for the IdP emulators: one thread per connection,
//! persistent connections as HTTP/1.1 has them by default (RFC 9112 §9.3) and as the providers
//! serve them, and hooks for the faults real services produce (delays, truncated bodies).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request came in absolute form (`GET http://host/path`): it was sent to us as a proxy.
    pub proxied: bool,
}

impl HttpRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Form fields of an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_pairs(&String::from_utf8_lossy(&self.body))
    }
}

#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (timeouts).
    pub delay: Option<Duration>,
    /// Send only the first half of the body, then close (a truncated response).
    pub truncate: bool,
}

impl HttpResponse {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            ..HttpResponse::default()
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A hostile or broken peer (a proxy, a misconfigured gateway) that answers an error quoting the
/// whole request back — every header, the Authorization credentials included, and the body,
/// a client secret or a signed assertion included. `error_json` shapes it like the provider's
/// error body.
pub fn echo(req: &HttpRequest, status: u16, error_json: impl Fn(&str) -> serde_json::Value) -> HttpResponse {
    let mut quoted = format!("{} {}", req.method, req.path);
    for (k, v) in &req.headers {
        quoted.push_str(&format!("\n{k}: {v}"));
    }
    quoted.push_str("\n\n");
    quoted.push_str(&String::from_utf8_lossy(&req.body));
    HttpResponse::json(status, &error_json(&quoted))
}

pub type Handler = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        // A blocking accept adds no delay to a connection; `drop` wakes it with a connection of its own.
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                std::thread::spawn(move || serve(stream, handler));
            }
        });
        Server { addr, stop, accept: Some(accept), connections }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections clients opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// How long a connection may wait for its next request. Longer than the client's own idle limit
/// (ureq drops pooled connections idle for 15 s), so that the client, not the server, closes an
/// idle connection and never sends on one the server has just closed.
const IDLE: Duration = Duration::from_secs(60);

fn serve(stream: TcpStream, handler: Handler) {
    stream.set_read_timeout(Some(IDLE)).ok();
    stream.set_nodelay(true).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut tunneled = false;
    while let Some(keep) = serve_one(&stream, &mut reader, &mut tunneled, &handler) {
        if !keep {
            break;
        }
    }
}

/// Reads and answers one request; `None` when the client closed or sent nothing readable,
/// `Some(false)` when the connection closes after this answer.
fn serve_one(
    stream: &TcpStream,
    reader: &mut BufReader<TcpStream>,
    tunneled: &mut bool,
    handler: &Handler,
) -> Option<bool> {
    let (method, target, headers) = loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("/").to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.trim_end().split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        // Acting as a proxy: accept the tunnel, then serve the request that comes through it.
        if method == "CONNECT" {
            let mut out = stream.try_clone().expect("clone stream");
            let _ = out.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
            *tunneled = true;
            continue;
        }
        break (method, target, headers);
    };
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return None;
    }
    // The client asked to close after this answer (RFC 9112 §9.6).
    let close = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
    // A client talking to a proxy names the whole URL.
    let proxied = *tunneled || target.starts_with("http://");
    let target = if let Some(rest) = target.strip_prefix("http://") {
        rest.find('/').map(|i| rest[i..].to_string()).unwrap_or_else(|| "/".into())
    } else {
        target
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), parse_pairs(q)),
        None => (target.clone(), Vec::new()),
    };
    let req = HttpRequest { method, path: decode(&path), query, headers, body, proxied };
    let resp = handler(&req);
    if let Some(d) = resp.delay {
        std::thread::sleep(d);
    }
    let mut out = stream;
    // A truncated answer ends its connection: the client must see the body cut off.
    let keep = !close && !resp.truncate;
    let reason = match resp.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let connection = if keep { "keep-alive" } else { "close" };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: {connection}\r\n",
        resp.status,
        resp.body.len()
    );
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let body = if resp.truncate { &resp.body[..resp.body.len() / 2] } else { &resp.body[..] };
    // One write: a head and a body sent apart would wait on Nagle's algorithm and a delayed ACK.
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    if out.write_all(&message).and_then(|()| out.flush()).is_err() {
        return None;
    }
    Some(keep)
}

pub fn parse_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'$' | b',' | b'(' | b')' | b'=' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
