"""The JupyterLab extension as installed by tests/run.sh: enabled front end, server part OK, and its JSON."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
    assert all(d["path"] is None for d in panel_stats(tmp_path)["dashboards"])  # outside the root, no copy yet


def test_a_dashboard_outside_the_server_root_is_opened_from_a_copy_under_it(tmp_path):
    """JupyterLab started outside the repository (or on an installed package): the dashboards' notebooks lie
    outside its root, where it cannot open them; the first click places a copy under the root."""
    from quantdb_lab_jupyterlab.copies import COPIES, location, materialize

    from quantdb_lab.ui.dashboards import get

    root = tmp_path / "work"
    root.mkdir()
    portfolio = get("portfolio")
    assert location(portfolio, root) is None
    path = materialize("portfolio", root)
    assert path == f"{COPIES}/portfolio.ipynb"
    assert (root / path).read_bytes() == (notebooks_dir() / "portfolio.ipynb").read_bytes()
    assert location(portfolio, root) == path
    (root / path).write_text("{}")  # the user's edits are kept: the copy is made once
    assert materialize("portfolio", root) == path and (root / path).read_text() == "{}"
    assert materialize("portfolio", notebooks_dir().parent) == "notebooks/portfolio.ipynb"  # under the root: as is
    with pytest.raises(KeyError):
        materialize("no_such_dashboard", root)


def test_the_install_loads_the_magics_in_every_ipython(tmp_path):
    """The wheel's etc/ipython/ipython_config.json: a new IPython (terminal or kernel) has %qdb, no %load_ext."""
    config = Path(sys.prefix) / "etc" / "ipython" / "ipython_config.json"
    if not config.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{config} is missing: the install should have placed it")
        pytest.skip("quantdb_lab's IPython config is not installed in this environment")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "QUANTDB_LAB_PROVIDER": "simulated",
           "QUANTDB_LAB_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "-c",
                             "print('provider', get_ipython().run_line_magic('qdb', 'stats')['provider'])"],
                            capture_output=True, text=True, timeout=120, env=env, check=False)  # fmt: skip
    assert "provider simulated" in result.stdout, result.stdout + result.stderr
