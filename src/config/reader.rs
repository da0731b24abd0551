//! A small validating walker over `serde_json::Value`. Unlike serde, it keeps going after
//! the first problem, so `config validate` can report every error with its JSON path.

use serde_json::{Map, Value};

use super::ConfigError;

#[derive(Default)]
pub(crate) struct Ctx {
    pub errors: Vec<ConfigError>,
    /// What relative paths in the document resolve against (secret files).
    pub base_dir: std::path::PathBuf,
}

impl Ctx {
    pub fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ConfigError { path: path.to_string(), message: message.into() });
    }

    pub fn string(&mut self, path: &str, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    pub fn nonempty(&mut self, path: &str, v: &Value) -> Option<String> {
        let s = self.string(path, v)?;
        if s.trim().is_empty() {
            self.err(path, "must not be empty");
            return None;
        }
        Some(s)
    }

    /// A secret: a non-empty string, `{"env": "NAME"}` or `{"file": "PATH"}`.
    pub fn secret(&mut self, path: &str, v: &Value) -> Option<super::Secret> {
        if v.is_string() {
            return self.nonempty(path, v).map(super::Secret::new);
        }
        match super::secrets::resolve(v, &self.base_dir) {
            Ok(s) => Some(s),
            Err((key, message)) => {
                let at = if key.is_empty() { path.to_string() } else { format!("{path}.{key}") };
                self.err(&at, message);
                None
            }
        }
    }

    pub fn boolean(&mut self, path: &str, v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.err(path, format!("expected true or false, found {}", kind(other)));
                None
            }
        }
    }

    pub fn number(&mut self, path: &str, v: &Value, min: f64, max: f64) -> Option<f64> {
        match v.as_f64() {
            Some(n) if n >= min && n <= max => Some(n),
            Some(n) => {
                self.err(path, format!("expected a number from {min} to {max}, found {n}"));
                None
            }
            None => {
                self.err(path, format!("expected a number, found {}", kind(v)));
                None
            }
        }
    }

    /// A whole number from `min` to `max`; the message names both bounds, whichever was missed.
    pub fn whole(&mut self, path: &str, v: &Value, min: u64, max: u64) -> Option<u32> {
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n as u32),
            _ => {
                self.err(path, format!("expected a whole number from {min} to {max}, found {}", show(v)));
                None
            }
        }
    }

    /// An optional whole-number key of `o`: `default` when absent.
    pub fn opt_whole(&mut self, o: &mut Obj, key: &'static str, default: u32, min: u64, max: u64) -> Option<u32> {
        match o.opt(key) {
            Some((p, v)) => self.whole(&p, v, min, max),
            None => Some(default),
        }
    }

    pub fn array<'v>(&mut self, path: &str, v: &'v Value) -> Option<&'v Vec<Value>> {
        match v {
            Value::Array(a) => Some(a),
            other => {
                self.err(path, format!("expected a list, found {}", kind(other)));
                None
            }
        }
    }

    pub fn strings(&mut self, path: &str, v: &Value) -> Option<Vec<String>> {
        let items = self.array(path, v)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(&format!("{path}[{i}]"), item) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// One of a fixed set of words.
    pub fn word<T: Copy>(&mut self, path: &str, v: &Value, choices: &[(&str, T)]) -> Option<T> {
        let s = self.string(path, v)?;
        if let Some((_, t)) = choices.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        self.err(path, format!("unknown value '{s}' (expected one of: {})", names.join(", ")));
        None
    }
}

/// Reads the keys of one JSON object and, on `finish`, reports every key nobody asked for.
pub(crate) struct Obj<'v> {
    pub path: String,
    map: &'v Map<String, Value>,
    known: Vec<&'static str>,
}

impl<'v> Obj<'v> {
    pub fn new(ctx: &mut Ctx, path: &str, v: &'v Value) -> Option<Obj<'v>> {
        match v {
            Value::Object(map) => Some(Obj { path: path.to_string(), map, known: Vec::new() }),
            other => {
                ctx.err(path, format!("expected an object, found {}", kind(other)));
                None
            }
        }
    }

    pub fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn opt(&mut self, key: &'static str) -> Option<(String, &'v Value)> {
        self.known.push(key);
        self.map.get(key).filter(|v| !v.is_null()).map(|v| (self.at(key), v))
    }

    pub fn req(&mut self, ctx: &mut Ctx, key: &'static str, what: &str) -> Option<(String, &'v Value)> {
        let found = self.opt(key);
        if found.is_none() {
            ctx.err(&self.at(key), format!("missing; expected {what}"));
        }
        found
    }

    pub fn finish(self, ctx: &mut Ctx) {
        for key in self.map.keys() {
            if !self.known.iter().any(|k| k == key) {
                ctx.err(&self.at(key), format!("unknown key (expected one of: {})", self.known.join(", ")));
            }
        }
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        other => kind(other).to_string(),
    }
}
