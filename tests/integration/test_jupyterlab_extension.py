"""The JupyterLab extension as installed by tests/run.sh: enabled front end, server part OK, and its JSON."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

try:
    from quantdb_lab_jupyterlab.stats import panel_stats
except ImportError:
    if os.environ.get("CI"):
        pytest.fail("quantdb_lab_jupyterlab is not installed: tests/run.sh should have built and installed it")
    pytest.skip("the JupyterLab extension is not installed (bash tests/run.sh builds it)", allow_module_level=True)

from quantdb_lab.ui.dashboards import notebooks_dir, present

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return ANSI.sub("", result.stdout + result.stderr)


def test_labextension_list_shows_it_enabled():
    listing = _jupyter("labextension", "list")
    assert re.search(r"quantdb-lab-jupyterlab v\S+ enabled\s+OK", listing), listing


def test_server_extension_is_enabled_and_validates():
    listing = _jupyter("server", "extension", "list")
    assert re.search(r"quantdb_lab_jupyterlab enabled", listing) and re.search(r"quantdb_lab_jupyterlab \S+ OK", listing)


def test_the_stats_json_comes_from_the_lab_and_locates_the_dashboards(tmp_path, monkeypatch):
    from quantdb_lab_jupyterlab import stats

    from quantdb_lab.lab import Lab

    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    stats._lab.cache_clear()
    Lab(tmp_path, provider="simulated").bars("600519", start="2024-01-02", end="2024-01-31")
    try:
        payload = panel_stats(notebooks_dir().parent)
    finally:
        stats._lab.cache_clear()
    assert payload["summary"]["series"] == 1 and payload["summary"]["provider"] == "simulated"
    assert {row["dataset"] for row in payload["datasets"]} == {"bars"}  # qfq is derived from the bars
    assert [d["path"] for d in payload["dashboards"]] == [f"notebooks/{d.notebook}" for d in present()]
    assert all(d["path"] is None for d in panel_stats(tmp_path)["dashboards"])  # outside the server root
