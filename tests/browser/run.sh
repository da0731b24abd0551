#!/usr/bin/env bash
# The admin console in a real browser: Debian's Chromium, driven by playwright-core (npm; it
# drives the installed browser, none is downloaded), against `usersync serve` on 127.0.0.1.
# Prints "browser: N passed, N failed" and leaves a screenshot of each view in
# target/browser/screenshots/. Called by scripts/test.sh after `cargo build`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
chromium=/usr/bin/chromium
[ -x "$chromium" ] || { echo "error: $chromium is missing. Run: apt-get install chromium" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is missing. Run: apt-get install npm" >&2; exit 1; }
out=$root/target/browser
mkdir -p "$out"
if [ ! -f "$out/node_modules/playwright-core/package.json" ]; then
    (cd "$out" && npm install --silent --no-audit --no-fund --no-save playwright-core@1.65.1 >/dev/null)
fi
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$root/target/debug/usersync" --data-dir "$work/data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 100); do
    grep -q "token=" "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
link=$(sed -n 's/.*open \(http[^ ]*\).*/\1/p' "$work/serve.out" | head -n 1)
[ -n "$link" ] || { echo "error: usersync serve printed no link" >&2; cat "$work/serve.err" >&2; exit 1; }
rm -rf "$out/screenshots" && mkdir -p "$out/screenshots"
NODE_PATH="$out/node_modules" USERSYNC_LINK="$link" USERSYNC_REPO="$root" CHROMIUM="$chromium" \
    SCREENSHOTS="$out/screenshots" node tests/browser/console.test.js
