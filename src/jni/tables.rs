//! The state store's tables implemented in Java (`org.usersync.StateTables`, over Active Objects
//! in the app): Rust calls the `TablesAdapter`'s `invoke` (jni/upcall.rs) with JSON where an
//! argument is structured, and reads JSON back. Calls may come from several threads at once (a
//! run and its heartbeat): the Java side is thread-safe, nothing is serialised here.

use jni::objects::JObject;
use jni::refs::Global;
use serde_json::{json, Value};

use crate::store::tables::{Doc, Scan, Tables, Write};
use crate::store::StoreError;

pub(crate) struct JavaTables {
    adapter: super::upcall::Adapter,
}

impl JavaTables {
    pub fn new(adapter: Global<JObject<'static>>) -> Self {
        JavaTables { adapter: super::upcall::Adapter::new(adapter, "the Java state tables") }
    }

    fn invoke(&self, op: &'static str, args: [Option<&str>; 5]) -> Result<String, StoreError> {
        let answer = self.adapter.invoke(op, args).map_err(StoreError)?;
        match answer.split_at_checked(1) {
            Some(("0", rest)) => Ok(rest.to_string()),
            Some((_, rest)) => Err(StoreError(rest.to_string())),
            None => Err(StoreError(format!("{op}: the Java state tables answered nothing"))),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(op: &str, text: &str) -> Result<T, StoreError> {
        serde_json::from_str(text)
            .map_err(|e| StoreError(format!("{op}: the Java state tables' answer is invalid: {e}")))
    }
}

#[derive(serde::Deserialize)]
struct DocJson {
    value: String,
    version: i64,
}

impl Tables for JavaTables {
    fn get(&self, table: &str, key: &str) -> Result<Option<Doc>, StoreError> {
        let text = self.invoke("get", [Some(table), Some(key), None, None, None])?;
        let doc: Option<DocJson> = Self::parse("get", &text)?;
        Ok(doc.map(|d| Doc { value: d.value, version: d.version }))
    }

    fn scan(&self, s: &Scan) -> Result<Vec<(String, Doc)>, StoreError> {
        let limit = s.limit.to_string();
        let text = self.invoke(
            "scan",
            [Some(s.table), Some(s.prefix), s.after, Some(if s.descending { "true" } else { "false" }), Some(&limit)],
        )?;
        let rows: Vec<(String, String, i64)> = Self::parse("scan", &text)?;
        Ok(rows.into_iter().map(|(k, value, version)| (k, Doc { value, version })).collect())
    }

    fn write(&self, writes: &[Write]) -> Result<bool, StoreError> {
        let list: Vec<Value> = writes
            .iter()
            .map(|w| match w {
                Write::Put { table, key, value, expect } => {
                    json!({"op": "put", "table": table, "key": key, "value": value, "expect": expect})
                }
                Write::Delete { table, key, expect } => {
                    json!({"op": "delete", "table": table, "key": key, "expect": expect})
                }
            })
            .collect();
        let text = self.invoke("write", [Some(&Value::Array(list).to_string()), None, None, None, None])?;
        Self::parse("write", &text)
    }

    fn next_id(&self, sequence: &str) -> Result<i64, StoreError> {
        let text = self.invoke("next_id", [Some(sequence), None, None, None, None])?;
        Self::parse("next_id", &text)
    }
}
