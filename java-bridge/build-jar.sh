#!/usr/bin/env bash
# Builds target/java/usersync-java-<version>.jar: the shim's classes and the native library for
# linux-x86-64 (native/linux-x86-64/libusersync.so), which the shim loads from inside the jar —
# a private copy per class loader (NativeLoader.java). `--release` builds the optimised library
# first (what to ship); without it the debug library of `cargo build` goes in (the tests).
# Adding a platform: build the library there and put it under native/<os>-<arch>/ (the names
# NativeLoader.platform() gives, e.g. linux-aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
if [ "${1:-}" = "--release" ]; then
    cargo build --locked --release --lib
    profile=release
fi
lib=target/$profile/libusersync.so
[ -f "$lib" ] || { echo "error: $lib is missing; run 'cargo build' first (or pass --release)" >&2; exit 1; }
command -v jar >/dev/null || { echo "error: the jar tool is missing. Run: apt-get install openjdk-17-jdk-headless" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
work=target/java/jar-build
rm -rf "$work" && mkdir -p "$work/classes/native/linux-x86-64"
javac --release 17 -Xlint:all -Werror -d "$work/classes" java-bridge/src/main/java/org/usersync/*.java
cp "$lib" "$work/classes/native/linux-x86-64/libusersync.so"
out=target/java/usersync-java-$version.jar
rm -f "$out"
jar --create --file "$out" -C "$work/classes" .
echo "$out"
