#!/usr/bin/env bash
# The Java phase of the benchmark: the cost of a directory call crossing JNI, and a sync of
# --users people (default 20000) through the shim into an in-memory Java directory, on the
# release library. Prints figures; asserts nothing. docs/PERFORMANCE.md explains them.
#   bash java-bridge/bench.sh [--users N] [--calls N]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
junit=/usr/share/java/junit-platform-console-standalone.jar
servlet=/usr/share/java/servlet-api.jar
slf4j=/usr/share/java/slf4j-api.jar
for jar in "$junit:junit5" "$servlet:libservlet-api-java" "$slf4j:libslf4j-java"; do
    [ -f "${jar%%:*}" ] || { echo "error: ${jar%%:*} is missing. Run: apt-get install ${jar##*:}" >&2; exit 1; }
done
command -v javac >/dev/null || { echo "error: javac is missing. Run: apt-get install default-jdk-headless" >&2; exit 1; }
cargo build --release --locked --lib
out=$root/target/java-bench
rm -rf "$out" && mkdir -p "$out/stubs" "$out/classes" "$out/test-classes"
javac --release 17 -d "$out/stubs" -cp "$servlet" $(find java-bridge/stubs -name '*.java')
javac --release 17 -d "$out/classes" -cp "$out/stubs:$servlet:$slf4j" $(find java-bridge/src/main/java -name '*.java')
javac --release 17 -d "$out/test-classes" -cp "$out/classes:$out/stubs:$servlet:$slf4j:$junit" \
    $(find java-bridge/src/test/java -name '*.java')
java -Dusersync.library="$root/target/release/libusersync.so" -Dusersync.repo="$root" \
    -cp "$out/classes:$out/test-classes:$out/stubs:$servlet:$slf4j:$junit" org.usersync.ShimBenchmark "$@"
