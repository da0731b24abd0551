#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script): formatting, clippy,
# the Rust tests, the checked-in C header, the C ABI tests under valgrind, and the Java shim's
# JUnit 5 tests under -Xcheck:jni.
# Needs the Rust toolchain (with rustfmt and clippy), gcc, valgrind, python3, a JDK (17+),
# Debian's slapd and openssl (the LDAP tests), junit5, libservlet-api-java, libslf4j-java, chromium and npm (playwright-core comes
# from the npm registry); a missing Debian package is installed when running as root, otherwise
# the script says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

missing() {
    echo "error: $1 is not installed. $2" >&2
    exit 1
}
command -v cargo >/dev/null || missing cargo "Install the Rust toolchain with rustup (https://rustup.rs)."
cargo fmt --version >/dev/null 2>&1 || missing rustfmt "Run: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || missing clippy "Run: rustup component add clippy"

# Debian packages the C and Java tests need: installed here when we are root, named otherwise.
need_deb() { # command-or-file package
    { command -v "$1" >/dev/null || [ -f "$1" ]; } && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing $2 (for $1)"
        (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; }) ||
            missing "$1" "Run: apt-get install $2"
    else
        missing "$1" "Run: sudo apt-get install $2"
    fi
}
need_deb gcc gcc
need_deb valgrind valgrind
need_deb python3 python3
# The SCIM tests' Python packages come from PyPI into a virtual environment (scripts/scim-venv.sh).
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing python3-venv (for the SCIM tests' virtual environment)"
        apt-get install -y -qq python3-venv >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; } ||
            missing "python3's venv module" "Run: apt-get install python3-venv"
    else
        missing "python3's venv module" "Run: sudo apt-get install python3-venv"
    fi
fi
need_deb javac openjdk-17-jdk-headless
need_deb /usr/share/java/junit-platform-console-standalone.jar junit5
need_deb /usr/share/java/servlet-api.jar libservlet-api-java
need_deb /usr/share/java/slf4j-api.jar libslf4j-java
need_deb /usr/share/java/jetty9-server.jar libjetty9-java
need_deb /usr/bin/chromium chromium
need_deb npm npm
# The LDAP tests run a real OpenLDAP server with TLS certificates made by openssl.
need_deb /usr/sbin/slapd slapd
need_deb openssl openssl

echo "== SCIM software from PyPI (scim2-server, scim2-tester, scim2-client)"
USERSYNC_SCIM_VENV=$(bash scripts/scim-venv.sh)
export USERSYNC_SCIM_VENV

echo "== formatting"
cargo fmt --check
echo "== clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== tests"
cargo test --locked
echo "== SCIM endpoint compliance: scim2-tester against usersync serve (run by the tests above)"
grep "scim2-tester summary" target/scim2-tester.txt || { echo "error: the scim2-tester run left no summary" >&2; exit 1; }
cargo build --locked
echo "== C header"
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --exit-code -- include/usersync.h; then
    echo "error: include/usersync.h differs from the one build.rs generates; commit the regenerated header" >&2
    exit 1
fi
echo "== C ABI tests (gcc -Wall -Wextra -Werror, valgrind)"
bash tests/c/run.sh
echo "== Java shim tests (JUnit 5, -Xcheck:jni)"
bash java-bridge/run-tests.sh
echo "== admin console in a browser (Chromium, playwright-core)"
bash tests/browser/run.sh
# The benchmark's figures are not checked (docs/PERFORMANCE.md has them); this proves the
# documented command builds and that every phase ends DONE with nothing failed.
echo "== benchmark smoke run (1,000 users)"
cargo bench --locked --bench sync -- --users 1000 --latency-ms 2
# Every parser of outside input under the mutation fuzzer, two seconds each (docs/RELIABILITY.md;
# `cargo bench --bench fuzz -- --seconds 600` for a longer run).
echo "== fuzz smoke run"
cargo bench --locked --bench fuzz -- --seconds 16
