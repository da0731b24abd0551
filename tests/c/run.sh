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
# Hostile files for the C host: a 4 KB workbook naming its last cell, and a 1 GB single-cell CSV
# (sparse: it costs no disk).
python3 - "$work/hostile.xlsx" <<'PY'
import sys, zipfile
ct = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
rels = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
book = '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'
brels = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
sheet = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>user</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, body in [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("xl/workbook.xml", book), ("xl/_rels/workbook.xml.rels", brels), ("xl/worksheets/sheet1.xml", sheet)]:
        z.writestr(name, body)
PY
printf 'id,user,mail\n' >"$work/huge.csv"
truncate -s 1G "$work/huge.csv"

# Memcheck's default leak kinds (definite and possible); tests/c/valgrind.supp names the one
# false positive it suppresses and why.
RUST_BACKTRACE=0 valgrind --quiet --error-exitcode=99 --leak-check=full \
    --suppressions=tests/c/valgrind.supp \
    "$out/test_abi" examples/quickstart "$work"

# The same quick start through the CLI, and the per-user results compared (directory keys differ).
"$root/target/debug/usersync" --data-dir "$work/cli" sync --config examples/quickstart/config.json --json >/dev/null 2>&1
"$root/target/debug/usersync" --data-dir "$work/cli" run show 1 --json >"$work/cli-results.json"
python3 tests/compare_results.py "$work/c-results.json" "$work/cli-results.json" C
