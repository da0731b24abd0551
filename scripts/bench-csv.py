#!/usr/bin/env python3
"""Writes a CSV of N people in the quick-start's columns, and a configuration that syncs it with
the quick-start mapping into the local directory: the CSV figures of docs/PERFORMANCE.md
(target 1). Usage: scripts/bench-csv.py N OUT_DIR; then
  usersync --data-dir DIR sync --config OUT_DIR/config.json     (a full run, then again: a noop)
Deterministic: the same N gives the same file. One person in 50 is inactive, one in 8 leads a
team of eight, and every one is in a department group, VPN, and Leads for the leads."""
import json
import os
import sys

DEPARTMENTS = ["Engineering", "Support", "Sales", "Marketing", "Finance", "HR", "IT"]
CITIES = ["Copenhagen", "Milan", "Berlin", "Paris", "Oslo", "Madrid", "Lisbon"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench-csv.py N OUT_DIR")
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    people = os.path.join(out, "people.csv")
    with open(people, "w") as f:
        f.write("employeeId,upn,givenName,surname,mail,department,title,phone,office,manager,status,groups\n")
        for i in range(n):
            given, surname = f"Given{i}", f"Surname{i % 977}"
            upn = f"{given.lower()}.{surname.lower()}@example.com"
            dept = DEPARTMENTS[i % 7]
            boss = (i - 1) // 8
            manager = "" if i < 8 else f"given{boss}.surname{boss % 977}@example.com"
            status = "inactive" if i % 50 == 7 else "active"
            groups = ";".join([dept] + (["Leads"] if i % 8 == 0 else []) + ["VPN"])
            title = "Manager" if i % 8 == 0 else "Engineer"
            f.write(f"{100000 + i},{upn},{given},{surname},{given}.{surname}@example.com,{dept},{title},"
                    f"+45 3311 {i:06d},{CITIES[i % 7]},{manager},{status},{groups}\n")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "examples", "quickstart", "config.json")) as f:
        config = json.load(f)
    config["connectors"][0]["source"]["path"] = os.path.abspath(people)
    # A million people is about 190 MB of CSV in a million rows, past the default file limits.
    limits = config["connectors"][0]["source"].setdefault("limits", {})
    limits["max_file_mb"] = 1024
    limits["max_rows"] = max(n, 500_000)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
