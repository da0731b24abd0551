#!/usr/bin/env bash
# The SCIM software the tests run against, from PyPI, in a virtual environment under target/:
# scim2-server (a SCIM service provider the pull connector reads; the cursor extra for RFC 9865
# paging), scim2-tester (the RFC compliance checker) and scim2-client. Pinned; installed once,
# again only when the pins change. Prints the environment's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${USERSYNC_SCIM_VENV:-$PWD/target/scim-venv}
pins="scim2-server[cursor]==0.8.3 scim2-tester[httpx2]==0.5.2 scim2-client[httpx2]==0.13.2"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || {
        echo "error: python3's venv module is missing. Run: apt-get install python3-venv" >&2
        exit 1
    }
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2 || {
        echo "error: could not install $pins from PyPI into $venv" >&2
        exit 1
    }
    echo "$pins" > "$venv/.pins"
fi
echo "$venv"
