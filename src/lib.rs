//! usersync: synchronises users from identity providers into an application's directory.
//! See docs/ARCHITECTURE.md for the pipeline and where each stage lives.

pub mod admin;
pub mod attr_value;
pub mod attributes;
pub mod config;
pub mod connector;
pub mod directory;
pub mod engine;
pub mod ffi;
pub mod jni;
pub mod logging;
pub mod mapping;
pub mod model;
pub mod private_file;
mod process;
pub mod reconcile;
pub mod redact;
pub mod schedule;
pub mod scim;
pub mod store;

mod fastmap;
mod json_text;
mod sqlite_file;
