"""Counts what schemathesis did from its NDJSON reports: operations, requests, answers by status, failures.

Usage: summary.py NAME=REPORT.ndjson... — prints a figure line per pass, such as
`schemathesis (ministry): 41 operations, 2007 requests, 0 failures (2xx 512, 4xx 1495)`, then the total:
`schemathesis: 41 operations, 3710 requests, 0 failures`.
"""

import collections
import json
import sys


METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def count(path):
    """The operations, requests, answers by status class and failed checks of one report."""
    operations, statuses, failures = set(), collections.Counter(), set()
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event.get("recorder", {})
            label = recorder.get("label") or event.get("label") or ""
            # Stateful scenarios are labelled by their link chains, not by one operation.
            if label.split(" ")[0] in METHODS:
                operations.add(label)
            for interaction in recorder.get("interactions", {}).values():
                status = (interaction.get("response") or {}).get("status_code")
                statuses[f"{status // 100}xx" if status else "no answer"] += 1
            for case_id, checks in recorder.get("checks", {}).items():
                failures.update((check.get("name"), case_id) for check in checks if check.get("status") == "failure")
    return operations, statuses, failures


def main():
    all_operations, requests, failures = set(), 0, 0
    for argument in sys.argv[1:]:
        name, _, path = argument.partition("=")
        operations, statuses, failed = count(path)
        spread = ", ".join(f"{key} {number}" for key, number in sorted(statuses.items()))
        total = sum(statuses.values())
        print(f"schemathesis ({name}): {len(operations)} operations, {total} requests, {len(failed)} failures ({spread})")
        all_operations |= operations
        requests += total
        failures += len(failed)
    print(f"schemathesis: {len(all_operations)} operations, {requests} requests, {failures} failures")


if __name__ == "__main__":
    main()
