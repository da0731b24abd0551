"""Runs scim2-tester, the SCIM RFC compliance checker, against a SCIM endpoint.

Usage: check_endpoint.py BASE_URL TOKEN OUT_JSON

Prints one line per check and a summary, and writes every result to OUT_JSON as
[{"status", "title", "resource_type", "reason"}] for the Rust test to judge.
"""

import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main() -> int:
    base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
    http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client)
    rows = []
    for r in results:
        status = r.status.name
        rows.append({"status": status, "title": r.title, "resource_type": r.resource_type, "reason": r.reason})
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"scim2-tester: {status:<10} {r.title}{where}" + (f" — {r.reason}" if status in ("ERROR", "CRITICAL", "DEVIATION") else ""))
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    print("scim2-tester summary: " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())))
    with open(out, "w") as f:
        json.dump(rows, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
