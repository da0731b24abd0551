"""Checks that a host (C or Java) got the same per-user results as the CLI for one run.

Usage: compare_results.py HOST_RESULTS.json CLI_RESULTS.json LABEL
Both files are {"run": ..., "results": [...]}; directory keys differ between directories and
are left out of the comparison.
"""
import json
import sys


def users(path):
    rows = json.load(open(path, encoding="utf-8"))["results"]
    for r in rows:
        r.pop("key", None)
    return sorted(rows, key=lambda r: (r["idp_id"] or "", r["username"]))


host, cli, label = users(sys.argv[1]), users(sys.argv[2]), sys.argv[3]
if host != cli:
    for h, c in zip(host, cli):
        if h != c:
            print(f"first difference:\n  {label}: {h}\n  CLI: {c}", file=sys.stderr)
            break
    print(f"{label} and CLI per-user results differ ({len(host)} vs {len(cli)} users)", file=sys.stderr)
    sys.exit(1)
print(f"the {label} host and the CLI agree on {len(host)} per-user results")
