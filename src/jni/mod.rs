//! JNI: the natives of `org.usersync.NativeEngine` (java-bridge/). Each native is one call into
//! `HostEngine`, the same facade the C ABI uses. Errors become typed Java exceptions, panics
//! `IllegalStateException`; engines are checked handles, so a call after `close()` throws instead
//! of touching freed memory.

mod bench;
mod boundary;
mod directory;
mod natives;
mod tables;
mod upcall;
