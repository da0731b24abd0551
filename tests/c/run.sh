#!/usr/bin/env bash
# The C ABI tests: compile with gcc -Wall -Wextra -Werror, run under valgrind (no errors, no
# definite or indirect leaks), and check that the C host got the same per-user results for the
# quick start as the CLI. Called by scripts/test.sh after `cargo test` built the library.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
lib=$root/target/debug
[ -f "$lib/libusersync.so" ] || { echo "error: $lib/libusersync.so is missing; run 'cargo build' first" >&2; exit 1; }

out=$root/target/c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
gcc -std=c11 -Wall -Wextra -Werror -g -Iinclude tests/c/test_abi.c tests/c/memdir.c \
    -L"$lib" -lusersync -lpthread -Wl,-rpath,"$lib" -o "$out/test_abi"

# The panic test prints Rust's panic message on stderr; that is expected.
# Memcheck's default leak kinds (definite and possible); tests/c/valgrind.supp names the one
# false positive it suppresses and why.
RUST_BACKTRACE=0 valgrind --quiet --error-exitcode=99 --leak-check=full \
    --suppressions=tests/c/valgrind.supp \
    "$out/test_abi" examples/quickstart "$work"

# The same quick start through the CLI, and the per-user results compared (directory keys differ).
"$root/target/debug/usersync" --data-dir "$work/cli" sync --config examples/quickstart/config.json --json >/dev/null 2>&1
"$root/target/debug/usersync" --data-dir "$work/cli" run show 1 --json >"$work/cli-results.json"
python3 tests/compare_results.py "$work/c-results.json" "$work/cli-results.json" C
