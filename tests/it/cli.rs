//! The command line as an administrator uses it.
