#!/usr/bin/env bash
# The admin console in a real browser: Debian's Chromium, driven by playwright-core (npm; it
# drives the installed browser, none is downloaded), against both servers on 127.0.0.1:
#   1. `usersync serve` on a fresh data directory;
#   2. the plugin's admin servlet in Jetty 9.4 (Debian's libjetty9-java) over the Jira app on
#      the fake Jira (tests/browser/jetty/JiraConsoleServer.java).
# Each prints "browser (server): N passed, N failed" and leaves a screenshot of each view in
# target/browser/screenshots/<server>/. Called by scripts/test.sh after the Java tests (which
# compile the classes the Jetty server needs).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
chromium=/usr/bin/chromium
[ -x "$chromium" ] || { echo "error: $chromium is missing. Run: apt-get install chromium" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is missing. Run: apt-get install npm" >&2; exit 1; }
jetty=/usr/share/java
for j in jetty9-server jetty9-servlet jetty9-http jetty9-io jetty9-util jetty9-security; do
    [ -f "$jetty/$j.jar" ] || { echo "error: $jetty/$j.jar is missing. Run: apt-get install libjetty9-java" >&2; exit 1; }
done
java_out=$root/target/java
[ -d "$java_out/test-classes" ] || { echo "error: $java_out is missing; run java-bridge/run-tests.sh first" >&2; exit 1; }
out=$root/target/browser
mkdir -p "$out"
if [ ! -f "$out/node_modules/playwright-core/package.json" ]; then
    (cd "$out" && npm install --silent --no-audit --no-fund --no-save playwright-core@1.65.1 >/dev/null)
fi
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    exec 3>&- 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$out/screenshots" && mkdir -p "$out/screenshots/serve" "$out/screenshots/jira-app"

# Waits for a line matching $2 in file $1 and prints the first URL on it.
url_from() {
    for _ in $(seq 1 300); do
        grep -q "$2" "$1" 2>/dev/null && break
        sleep 0.1
    done
    grep "$2" "$1" | head -n 1 | grep -o 'http://[^ ]*' | head -n 1
}

browse() { # server-name link
    NODE_PATH="$out/node_modules" USERSYNC_SERVER="$1" USERSYNC_LINK="$2" USERSYNC_REPO="$root" \
        USERSYNC_PASSWORD="${password:-}" \
        CHROMIUM="$chromium" SCREENSHOTS="$out/screenshots/$1" node tests/browser/console.test.js
}

status=0

# 1. usersync serve, with an admin password as well as its token
password="browser test password $$"
echo "$password" | "$root/target/debug/usersync" --data-dir "$work/data" serve --set-password >/dev/null
"$root/target/debug/usersync" --data-dir "$work/data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
link=$(url_from "$work/serve.out" "token=")
[ -n "$link" ] || { echo "error: usersync serve printed no link" >&2; cat "$work/serve.err" >&2; exit 1; }
browse serve "$link" || status=1
kill "$server" 2>/dev/null || true
server=""

# 2. the plugin servlet in Jetty
classes="$java_out/classes:$java_out/test-classes:$java_out/stubs:$jetty/servlet-api.jar:$jetty/slf4j-api.jar"
classes="$classes:$jetty/slf4j-simple.jar"
for j in jetty9-server jetty9-servlet jetty9-http jetty9-io jetty9-util jetty9-security; do
    classes="$classes:$jetty/$j.jar"
done
# The page as it is now, where the servlet finds it (as run-tests.sh puts it).
mkdir -p "$java_out/classes/admin-page" && cp src/admin/page/* "$java_out/classes/admin-page/"
mkdir -p "$work/jetty-classes"
javac --release 17 -Xlint:all -Werror -d "$work/jetty-classes" -cp "$classes" tests/browser/jetty/JiraConsoleServer.java
mkfifo "$work/stdin"
java -Dusersync.library="$root/target/debug/libusersync.so" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$work/jetty-classes:$classes" org.usersync.jira.JiraConsoleServer "$work/jira" \
    <"$work/stdin" >"$work/jetty.out" 2>"$work/jetty.err" &
server=$!
exec 3>"$work/stdin"
base=$(url_from "$work/jetty.out" "jira console:")
[ -n "$base" ] || { echo "error: the Jetty server did not start" >&2; cat "$work/jetty.err" >&2; exit 1; }
browse jira-app "$base/login.jsp?os_username=admin&os_destination=/jira/plugins/servlet/usersync/admin/" || status=1
exec 3>&-
wait "$server" 2>/dev/null || true
server=""
if [ "$status" != 0 ]; then
    echo "--- Jetty server's log" >&2
    tail -n 40 "$work/jetty.err" >&2
fi
exit "$status"
