#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Needs only the Rust toolchain with rustfmt and clippy; everything else comes from crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."

missing() {
    echo "error: $1 is not installed. $2" >&2
    exit 1
}
command -v cargo >/dev/null || missing cargo "Install the Rust toolchain with rustup (https://rustup.rs)."
cargo fmt --version >/dev/null 2>&1 || missing rustfmt "Run: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || missing clippy "Run: rustup component add clippy"

echo "== formatting"
cargo fmt --check
echo "== clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== tests"
cargo test --locked
