"""``quantdb-lab dashboard``: the Voila invocation, 127.0.0.1 and a free port, and a real start and Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from quantdb_lab.cli import build_parser
from quantdb_lab.ui import dashboard_command
from quantdb_lab.ui.dashboards import notebooks_dir
from quantdb_lab.ui.voila_server import (
    HOST,
    JUPYTER_DATA,
    TEMPLATE,
    VoilaServer,
    free_port,
    voila_command,
    voila_env,
)


def test_the_subcommand_parses_a_name_and_a_port():
    args = build_parser().parse_args(["--provider", "simulated", "dashboard", "cache_monitor", "--port", "8123"])
    assert (args.name, args.port, args.provider) == ("cache_monitor", 8123, "simulated")
    assert build_parser().parse_args(["dashboard"]).name is None
    assert build_parser().parse_args(["dashboard"]).pool_size is None  # VoilaServer's default
    assert build_parser().parse_args(["dashboard", "--pool-size", "0"]).pool_size == 0
    assert build_parser().parse_args(["dashboard", "--pool-max-age", "60"]).pool_max_age == 60


def test_a_negative_pool_size_is_refused(tmp_path, capsys):
    (tmp_path / "index.ipynb").write_text("{}")
    assert dashboard_command.run_dashboard(None, directory=tmp_path, pool_size=-1) == 2
    assert "--pool-size must be 0 or more" in capsys.readouterr().err
    assert dashboard_command.run_dashboard(None, directory=tmp_path, pool_max_age=-1) == 2
    assert "--pool-max-age must be 0 or more" in capsys.readouterr().err


def test_voila_binds_127_0_0_1_on_the_port_given_with_sources_stripped_and_our_template(tmp_path):
    command = voila_command(tmp_path, 8765)
    assert command[:3] == [sys.executable, "-m", "quantdb_lab.ui.voila_app"] and command[3] == str(tmp_path)
    assert "--Voila.ip=127.0.0.1" in command and "--port=8765" in command and "--Voila.port_retries=0" in command
    assert "--strip_sources=True" in command and f"--template={TEMPLATE}" in command and "--no-browser" in command
    assert not any("0.0.0.0" in part for part in command)


def test_the_template_has_no_cdn_link_and_is_on_jupyter_path():
    env = voila_env({"JUPYTER_PATH": "/elsewhere"}, provider="simulated", cache_dir="/c")
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(JUPYTER_DATA), "/elsewhere"]
    assert (env["QUANTDB_LAB_PROVIDER"], env["QUANTDB_LAB_CACHE_DIR"]) == ("simulated", "/c")
    template = JUPYTER_DATA / "voila" / "templates" / TEMPLATE
    assert (template / "conf.json").is_file()
    assert "replace(" in (template / "index.html.j2").read_text()


def test_free_port_is_free_on_127_0_0_1():
    port = free_port()
    with socket.socket() as probe:
        probe.bind((HOST, port))  # would raise if taken


def test_unknown_or_missing_dashboards_are_refused(tmp_path, capsys):
    assert dashboard_command.run_dashboard("nope", directory=tmp_path) == 2
    assert "choose one of" in capsys.readouterr().err
    assert dashboard_command.run_dashboard("cache_monitor", directory=tmp_path) == 2
    assert "is not in" in capsys.readouterr().err


def test_the_command_starts_voila_prints_the_url_and_stops_on_ctrl_c(tmp_path):
    pytest.importorskip("voila")
    command = [sys.executable, "-m", "quantdb_lab.cli", "--provider", "simulated", "--cache-dir", str(tmp_path),
               "dashboard", "cache_monitor"]  # fmt: skip
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = cli.stdout.readline()
        address = line.split()[-1].split("?token=")[0]  # the printed URL carries the server's token
        assert line.startswith("Dashboards at http://127.0.0.1:") and address.endswith("/voila/render/cache_monitor.ipynb")
        base = line.split()[-1].split("/voila/")[0]
        with urllib.request.urlopen(line.split()[-1], timeout=60) as response:  # runs the notebook
            page = response.read().decode()
        assert response.status == 200 and "Cache monitor" in page and "cdn.jsdelivr" not in page
        assert "dashboard_lab(PROVIDER" not in page  # sources stripped
        children = _children(cli.pid)
        assert children, "voila should run as a child process"
        cli.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends to the command
        assert cli.wait(30) == 0
        assert "stopping" in cli.stderr.read()
        time.sleep(0.2)
        assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []
        port = int(base.rsplit(":", 1)[1])
        with pytest.raises(OSError), socket.create_connection((HOST, port), timeout=1):
            pass
    finally:
        if cli.poll() is None:  # a failed assertion: stop it as Ctrl-C would, so it stops Voila too
            cli.send_signal(signal.SIGINT)
            try:
                cli.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(cli.pid, signal.SIGKILL)
                cli.wait()


def test_the_server_object_stops_its_process_group_by_pid(tmp_path):
    pytest.importorskip("voila")
    server = VoilaServer(notebooks_dir(), env=voila_env(os.environ, provider="simulated", cache_dir=str(tmp_path)))
    with server:
        pid = server.process.pid
        assert os.getpgid(pid) == pid  # its own process group
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_voila_dies_with_the_process_that_started_it_even_on_sigkill(tmp_path):
    pytest.importorskip("voila")
    code = (
        "import os, sys, time; from pathlib import Path;"
        "from quantdb_lab.ui.voila_server import VoilaServer, voila_env;"
        f"s = VoilaServer(Path({str(notebooks_dir())!r}), env=voila_env(os.environ, cache_dir={str(tmp_path)!r}));"
        "s.start(); print(s.process.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    voila_pid = int(parent.stdout.readline())
    parent.kill()  # no chance to clean up
    parent.wait()
    deadline = time.monotonic() + 20
    while Path(f"/proc/{voila_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{voila_pid}").exists() or "Z" in Path(f"/proc/{voila_pid}/stat").read_text().split()[2]


def test_voila_culls_kernels_left_idle_without_a_page_and_keeps_connected_ones(tmp_path):
    command = voila_command(tmp_path, 8765, cull_idle_timeout=40, cull_interval=7)
    assert "--MappingKernelManager.cull_idle_timeout=40" in command
    assert "--MappingKernelManager.cull_interval=7" in command
    assert "--MappingKernelManager.cull_connected=False" in command
    defaults = voila_command(tmp_path, 8765)
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") and int(a.split("=")[1]) > 0 for a in defaults)


def test_plotly_script_is_served_once_by_url_and_named_by_the_kernels_widgets(tmp_path, monkeypatch):
    import plotly

    from quantdb_lab.config import PLOTLY_ESM_ENV
    from quantdb_lab.ui.voila_server import PLOTLY_ASSET, TEMPLATE, plotly_asset_dir
    from quantdb_lab.ui.widgets.figure_view import figure_widget

    root = plotly_asset_dir()
    try:
        served = root / "voila" / "templates" / TEMPLATE / "static" / PLOTLY_ASSET
        bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
        assert served.read_bytes() == bundle.read_bytes()
    finally:
        shutil.rmtree(root)
    import plotly.graph_objects as go

    monkeypatch.delenv(PLOTLY_ESM_ENV, raising=False)
    assert len(figure_widget(go.Figure())._esm) > 1_000_000  # JupyterLab: the script travels in the state
    monkeypatch.setenv(PLOTLY_ESM_ENV, "http://127.0.0.1:8765/voila/static/plotly-widget.js")
    a, b = figure_widget(go.Figure()), figure_widget(go.Figure())
    assert a._esm == b._esm == "http://127.0.0.1:8765/voila/static/plotly-widget.js"
    assert isinstance(a, go.FigureWidget)
    monkeypatch.setenv(PLOTLY_ESM_ENV, "/voila/static/plotly-widget.js")  # what our server sets: any host name
    c, d = figure_widget(go.Figure()), figure_widget(go.Figure())
    assert c._esm == d._esm and len(c._esm) < 500 and '"/voila/static/plotly-widget.js"' in c._esm
    assert "window.location.origin" in c._esm
