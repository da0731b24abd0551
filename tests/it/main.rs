//! Integration tests, in one crate so CI links one binary.

mod support;

mod admin;
mod cli;
mod config_errors;
mod daemon;
mod entra;
mod entra_delta;
mod faults;
mod file_sources;
mod google;
mod groups;
mod guard;
mod identity;
mod idle;
mod keycloak;
mod ldap;
mod lifecycle;
mod logging;
mod login;
mod lookups;
mod managers;
mod mapping;
mod okta;
mod onelogin;
mod operations;
mod ownership;
mod rest;
mod runs;
mod scim;
mod scim_endpoint;
mod secrets;
mod store_contract;
