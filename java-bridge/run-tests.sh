#!/usr/bin/env bash
# The Java shim's tests: compile with javac -Xlint:all -Werror, run JUnit 5 (Debian's junit5
# console launcher) under -Xcheck:jni, fail on any JNI warning, print "N passed, N failed", and
# check that the Java host got the same per-user results for the quick start as the CLI.
# Called by scripts/test.sh after the library and the CLI were built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
lib=$root/target/debug/libusersync.so
junit=/usr/share/java/junit-platform-console-standalone.jar
[ -f "$lib" ] || { echo "error: $lib is missing; run 'cargo build' first" >&2; exit 1; }
servlet=/usr/share/java/servlet-api.jar
slf4j=/usr/share/java/slf4j-api.jar
[ -f "$junit" ] || { echo "error: $junit is missing. Run: apt-get install junit5" >&2; exit 1; }
[ -f "$servlet" ] || { echo "error: $servlet is missing. Run: apt-get install libservlet-api-java" >&2; exit 1; }
[ -f "$slf4j" ] || { echo "error: $slf4j is missing. Run: apt-get install libslf4j-java" >&2; exit 1; }

out=$root/target/java
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out" && mkdir -p "$out/stubs" "$out/classes" "$out/test-classes"
# The Atlassian API signatures (compile-only; on the test class path because the fakes implement
# them, never in a jar), then the shim and the app, then the tests and the fakes.
javac --release 17 -Xlint:all -Werror -d "$out/stubs" -cp "$servlet" $(find java-bridge/stubs -name '*.java')
javac --release 17 -Xlint:all -Werror -d "$out/classes" -cp "$out/stubs:$servlet:$slf4j" \
    $(find java-bridge/src/main/java -name '*.java')
# The console page, where the servlet finds it in a jar.
mkdir -p "$out/classes/admin-page" && cp src/admin/page/* "$out/classes/admin-page/"
javac --release 17 -Xlint:all -Werror -d "$out/test-classes" -cp "$out/classes:$out/stubs:$servlet:$slf4j:$junit" \
    $(find java-bridge/src/test/java -name '*.java')

# The jar as it ships (debug library inside): the tests load it in fresh class loaders and JVMs.
jars=$(bash java-bridge/build-jar.sh)
jarfile=$(echo "$jars" | grep usersync-java-)
jirajar=$(echo "$jars" | grep usersync-jira-)
confluencejar=$(echo "$jars" | grep usersync-confluence-)

classes="$out/classes:$out/test-classes:$out/stubs:$servlet:$slf4j"
set +e
RUST_BACKTRACE=0 java -Xcheck:jni -Dusersync.library="$lib" -Dusersync.repo="$root" \
    -Dusersync.classpath="$classes" -Dusersync.resultsOut="$work/java-results.json" \
    -Dusersync.jiraResultsOut="$work/jira-results.json" \
    -Dusersync.confluenceResultsOut="$work/confluence-results.json" \
    -Dusersync.jar="$root/$jarfile" -Dusersync.testClasses="$out/test-classes" \
    -Dusersync.jiraJar="$root/$jirajar" -Dusersync.confluenceJar="$root/$confluencejar" \
    -Dusersync.stubs="$out/stubs" \
    -jar "$junit" -cp "$classes" --select-package org.usersync --disable-banner --disable-ansi-colors \
    --details=tree >"$work/junit.log" 2>&1
status=$?
set -e
cat "$work/junit.log"
passed=$(sed -n 's/^\[ *\([0-9]*\) tests successful *\]$/\1/p' "$work/junit.log")
failed=$(sed -n 's/^\[ *\([0-9]*\) tests failed *\]$/\1/p' "$work/junit.log")
if grep -q -E "WARNING in native method|FATAL ERROR in native method" "$work/junit.log"; then
    echo "error: -Xcheck:jni reported a JNI problem (see above)" >&2
    failed=$((${failed:-0} + 1))
    status=1
fi
echo "java: ${passed:-0} passed, ${failed:-0} failed"
[ "$status" = 0 ] || exit 1

"$root/target/debug/usersync" --data-dir "$work/cli" sync --config examples/quickstart/config.json >/dev/null 2>&1
"$root/target/debug/usersync" --data-dir "$work/cli" run show 1 --json >"$work/cli-results.json"
python3 tests/compare_results.py "$work/java-results.json" "$work/cli-results.json" Java
python3 tests/compare_results.py "$work/confluence-results.json" "$work/cli-results.json" "Confluence app"
"$root/target/debug/usersync" --data-dir "$work/cli-jira" sync --config examples/jira/config.json >/dev/null 2>&1
"$root/target/debug/usersync" --data-dir "$work/cli-jira" run show 1 --json >"$work/cli-jira-results.json"
python3 tests/compare_results.py "$work/jira-results.json" "$work/cli-jira-results.json" "Jira app"
