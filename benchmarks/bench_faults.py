"""The fault suite's counts (issue 17): faults injected, scenarios survived with nothing wrong or lost, and the
longest bounded wait, per area and overall.

Runs ``tests/faults`` under pytest with ``QUANTDB_LAB_FAULT_LOG`` set (tests/faults/conftest.py appends one JSON
line per scenario) and prints the table. A scenario that was skipped is shown as skipped, never as survived.

    python benchmarks/bench_faults.py            # the whole suite
    python benchmarks/bench_faults.py -k lease   # extra arguments go to pytest
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import REPO_DIR, markdown_table  # noqa: E402


def run_suite(extra: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "faults.jsonl"
        env = {**os.environ, "QUANTDB_LAB_FAULT_LOG": str(log)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults", *extra]
        subprocess.run(command, cwd=REPO_DIR, env=env, check=False)
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def table(records: list[dict]) -> str:
    areas: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        areas[record["area"]].append(record)
    rows = []
    for area, group in [*sorted(areas.items()), ("all", records)]:
        rows.append([
            area, str(len(group)), str(sum(r["injected"] for r in group)),
            str(sum(r["outcome"] == "survived" for r in group)), str(sum(r["outcome"] == "failed" for r in group)),
            str(sum(r["outcome"] == "skipped" for r in group)),
            f"{max((r['longest_wait'] for r in group), default=0.0):.2f} s",
        ])  # fmt: skip
    header = ["area", "scenarios", "faults injected", "survived", "failed", "skipped", "longest wait"]
    return markdown_table(header, rows)


def main() -> int:
    records = run_suite(sys.argv[1:])
    if not records:
        print("no fault scenario ran", file=sys.stderr)
        return 1
    print(table(records))
    return 0 if all(r["outcome"] != "failed" for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
